"""``merm-progress``: the progress service of a JupyterHub school deployment.

A JupyterHub service (tornado) that is the only holder of the progress database URL and of
the mentoring hub secret. Trainees' kernels submit attempts to it with the single-user
server's ``$JUPYTERHUB_API_TOKEN``; the service asks the hub whose token it is
(``HubAuth.user_for_token``) and records under that account. Staff pages (the instructor
dashboard, the CSV export and the class board) use JupyterHub OAuth (``HubOAuth``): members
of the instructors group or JupyterHub admins see them, a trainee gets a 403 page.

How it runs (the ``c.JupyterHub.services`` entry comes from
:func:`simulator.progress.spec.service_spec`)::

    command      python -m simulator.progress.service
    environment  MERM_DB_URL             database URL (only here)
                 MERM_INSTRUCTORS_GROUP  staff group (default merm-instructors)
                 MERM_HUB_URL            mentoring hub, internal URL (class board)
                 MERM_HUB_SECRET         mentoring hub secret (class board)
                 MERM_COURSE_DIR         course whose exercises grade submissions
    set by the hub  JUPYTERHUB_SERVICE_URL (bind address), JUPYTERHUB_SERVICE_PREFIX
                 (``/services/merm-progress/``), JUPYTERHUB_API_URL, JUPYTERHUB_API_TOKEN,
                 JUPYTERHUB_CLIENT_ID, JUPYTERHUB_OAUTH_CALLBACK_URL

The service's own token needs the ``read:users`` scope (groups and admin flag of a caller):
:func:`simulator.progress.spec.service_role`. Routes are listed in
:mod:`simulator.progress.api`; pages: ``instructor``, ``instructor.csv``, ``board``.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import httpclient, ioloop, web

from simulator.progress._handlers import Context, api_routes
from simulator.progress.api import ApiError, ProgressAPI
from simulator.progress.identity import Identity

__all__ = ["make_app", "main", "DEFAULT_GROUP", "ENV_VARS"]

DEFAULT_GROUP = "merm-instructors"
#: The environment variables the service reads (besides JupyterHub's own).
ENV_VARS = ("MERM_DB_URL", "MERM_INSTRUCTORS_GROUP", "MERM_HUB_URL", "MERM_HUB_SECRET", "MERM_COURSE_DIR")
#: How long the hub's answer for a token is reused (s; HubAuth's 0 would mean forever): a
#: revoked token, or one of a removed account, is refused a second later. Each request
#: then costs a loopback call to the hub's API (two for a staff check), about a millisecond.
TOKEN_CACHE_S = 1

HUB_DOWN = ApiError(503, "JupyterHub does not answer: the account cannot be checked; try again",
                    "JupyterHub ne répond pas : le compte ne peut être vérifié ; réessayez")


class StaffLookup:
    """Whether an account is staff, asked to the hub with the service's own token on every
    request (no cache: a member removed from ``group``, or an admin demoted, is refused at
    their next request): JupyterHub admin, or member of ``group``."""

    def __init__(self, api_url: str, api_token: str, group: str) -> None:
        self.api_url, self.api_token, self.group = api_url, api_token, group

    async def __call__(self, name: str) -> bool:
        url = url_path_join(self.api_url, "users", quote(name, safe=""))
        try:
            resp = await httpclient.AsyncHTTPClient().fetch(
                url, headers={"Authorization": f"token {self.api_token}"}, raise_error=False,
                request_timeout=15)
        except OSError:
            raise HUB_DOWN from None
        if resp.code != 200:
            staff = False  # unknown account, or the service lacks read:users: not staff
        else:
            model = json.loads(resp.body.decode("utf-8"))
            staff = bool(model.get("admin")) or self.group in (model.get("groups") or [])
        return staff


class HubCaller(HubOAuthenticated):
    """Authentication by the hub; authorization is the progress API's (who is staff)."""

    ctx: Context

    @property
    def staff_refusal(self) -> ApiError:
        group = self.ctx.extra["staff"].group
        return ApiError(403, f"staff only: this page is for the instructors (JupyterHub group "
                             f"{group!r} or admins)",
                        f"réservé à l'équipe pédagogique : cette page est pour les formateurs "
                        f"(groupe JupyterHub {group!r} ou administrateurs)")

    def check_hub_user(self, model: dict[str, Any]) -> dict[str, Any]:
        return model  # any identified account may call; the API decides what it may do

    async def _identity(self, model: dict[str, Any] | None) -> Identity | None:
        if not model or model.get("kind", "user") != "user" or not model.get("name"):
            return None
        name = str(model["name"])
        return Identity(name, staff=await self.ctx.extra["staff"](name))

    async def api_caller(self) -> Identity | None:
        # the API takes only a header token (a page of another site cannot post with cookies)
        token = self.hub_auth.get_token(self, in_cookie=False)
        if not token:
            return None
        try:
            model = await self.hub_auth.user_for_token(token, sync=False)
        except web.HTTPError as exc:  # the hub is down or refuses the service
            if exc.status_code in (403, 404):
                return None
            raise HUB_DOWN from None
        except OSError:
            raise HUB_DOWN from None
        return await self._identity(model)

    async def page_caller(self) -> Identity | None:
        try:
            model = await self.hub_auth.get_user(self, sync=False)
        except web.HTTPError:
            raise HUB_DOWN from None
        except OSError:
            raise HUB_DOWN from None
        return await self._identity(model)

    def unauthenticated_page(self) -> None:
        self.redirect(self.get_login_url())


class RootHandler(web.RequestHandler):
    def initialize(self, ctx: Context) -> None:
        self.ctx = ctx

    def get(self) -> None:
        self.redirect(self.ctx.prefix + "instructor")


def make_app(environ: dict[str, str] | None = None) -> tuple[web.Application, str, int]:
    """The service's tornado application and its bind (host, port), from the environment."""
    env = dict(os.environ if environ is None else environ)
    from simulator.exercises.store import ProgressStore

    prefix = env.get("JUPYTERHUB_SERVICE_PREFIX", "/services/merm-progress/")
    prefix = prefix if prefix.endswith("/") else prefix + "/"
    bind = urlparse(env.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10102"))
    db_url = env.get("MERM_DB_URL")
    if not db_url:
        from simulator.paths import default_db_url

        db_url = default_db_url()
    course = env.get("MERM_COURSE_DIR")
    api = ProgressAPI(ProgressStore(db_url), course=Path(course) if course else None)
    hub_secret = env.get("MERM_HUB_SECRET")
    auth = HubOAuth(api_url=env.get("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api"),
                    api_token=env.get("JUPYTERHUB_API_TOKEN", ""), cache_max_age=TOKEN_CACHE_S)
    staff = StaffLookup(auth.api_url, auth.api_token, env.get("MERM_INSTRUCTORS_GROUP") or DEFAULT_GROUP)
    ctx = Context(api=api, prefix=prefix, hub_url=env.get("MERM_HUB_URL") or None,
                  hub_secret=(lambda: hub_secret.encode()) if hub_secret else None,
                  extra={"staff": staff})
    caller = type("ServiceCaller", (HubCaller,), {"hub_auth": auth})
    callback = type("ServiceOAuthCallback", (HubOAuthCallbackHandler,), {"hub_auth": auth})
    routes: list[Any] = [
        (prefix, RootHandler, {"ctx": ctx}),
        (url_path_join(prefix, "oauth_callback"), callback),
        *api_routes(prefix, caller, ctx),
    ]
    app = web.Application(routes, cookie_secret=secrets.token_bytes(32), xsrf_cookies=False)
    return app, bind.hostname or "127.0.0.1", bind.port or 80


def main(argv: list[str] | None = None) -> int:
    """Run the service until SIGTERM/SIGINT (JupyterHub starts and stops it)."""
    from simulator.errors import UserError

    try:
        app, host, port = make_app()
    except UserError as exc:
        print(f"merm-progress: {exc}", file=sys.stderr)
        return 2
    server = app.listen(port, address=host)
    loop = ioloop.IOLoop.current()

    def stop(*_: object) -> None:
        loop.add_callback_from_signal(loop.stop)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    if os.environ.get("JUPYTERHUB_SERVICE_NAME"):  # managed: never outlive the hub
        parent = os.getppid()

        def orphaned() -> None:
            if os.getppid() != parent:
                print("merm-progress: JupyterHub is gone, stopping", flush=True)
                loop.stop()

        ioloop.PeriodicCallback(orphaned, 2000).start()
    print(f"merm-progress listening on http://{host}:{port}", flush=True)
    loop.start()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
