"""The lab server: Voilà plus sign-in, the progress API and the staff pages (``serve``).

Identity on one machine: ``/merm/signin`` asks the trainee's name and cohort and sets the
signed cookie ``merm-identity`` (:mod:`simulator.progress.identity`). Every
``/voila/render/`` page but the mentor's and the instructor's sends an unsigned visitor there
first. Voilà passes the page request's ``Cookie`` header to the kernel (``$HTTP_COOKIE``,
``VoilaConfiguration.http_header_envs``) and sets ``$MERM_LAB_URL``, so the console's
progress client (:func:`simulator.progress.client.progress_client`) sends the signed cookie
back with each submission; the lab server records the name it verifies.

Staff: ``/merm/instructor?token=T`` with the token that ``serve`` prints (``$MERM_LAB_TOKEN``,
removed from the environment before any kernel starts) sets the ``merm-staff`` cookie and
opens the instructor page; ``/merm/board`` lists the mentoring rooms (the hub secret stays
in this process). The database URL (``$MERM_DB_URL``) is also taken out of the environment:
kernels reach progress only through this server.

Routes: ``/`` landing, ``/merm/signin`` (GET form, POST), ``/merm/signout``, and those of
:func:`simulator.progress._handlers.api_routes` under ``/merm/``.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

from voila.app import Voila
from voila.tornado.handler import TornadoVoilaHandler

from simulator.progress import pages
from simulator.progress._handlers import Context, ProgressHandler, api_routes
from simulator.progress.api import ApiError, ProgressAPI
from simulator.progress.identity import (
    COHORT_MAX,
    NAME_MAX,
    STAFF_COOKIE,
    TRAINEE_COOKIE,
    Identity,
    clean_name,
    lab_secret,
    sign_identity,
    verify_identity,
)

__all__ = ["LabVoila", "main", "PREFIX", "OPEN_NOTEBOOKS"]

PREFIX = "/merm/"
#: Notebooks that open without a trainee sign-in (an outside mentor's page; the instructor
#: dashboard asks for the staff cookie itself).
OPEN_NOTEBOOKS = ("mentor.ipynb", "instructor.ipynb")
_COOKIE_DAYS = 90

BAD_TOKEN = ApiError(403, pages.T["bad_token"][1], pages.T["bad_token"][0])
NO_STAFF_PASS = ApiError(
    403, "staff only: open the instructor link that 'merm-lab serve' printed at start",
    "réservé aux formateurs : ouvrez le lien formateur affiché au démarrage de « merm-lab serve »")


def _safe_next(value: str | None) -> str:
    """A local path to go back to after the sign-in (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


class LabCaller:
    """Authentication of the lab server: signed cookies (pages) or a signed header (API)."""

    ctx: Context
    request: Any
    staff_refusal = NO_STAFF_PASS

    @property
    def secret(self) -> bytes:
        return bytes(self.ctx.extra["secret"])

    def _bearer(self) -> str | None:
        header = self.request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None

    async def api_caller(self) -> Identity | None:
        value = self._bearer()
        if value and hmac.compare_digest(value.encode(), str(self.ctx.extra["token"]).encode()):
            return Identity("instructor", staff=True)  # the start token (exercise grade --user)
        return verify_identity(self.secret, value, "staff") or verify_identity(self.secret, value, "trainee")

    async def page_caller(self) -> Identity | None:
        get_cookie = self.get_cookie  # type: ignore[attr-defined]
        return (verify_identity(self.secret, get_cookie(STAFF_COOKIE), "staff")
                or await self.api_caller()
                or verify_identity(self.secret, get_cookie(TRAINEE_COOKIE), "trainee"))

    def unauthenticated_page(self) -> None:
        self.refuse(NO_STAFF_PASS, page=True)  # type: ignore[attr-defined]

    def prepare(self) -> None:
        """``?token=`` on a staff page: the start token sets the staff cookie."""
        token = self.get_argument("token", None)  # type: ignore[attr-defined]
        if token is None or self.request.method != "GET" or "/api/" in self.request.path:
            return
        expected = str(self.ctx.extra["token"])
        if not hmac.compare_digest(token.encode(), expected.encode()):
            self.refuse(BAD_TOKEN, page=True)  # type: ignore[attr-defined]
            return
        self.set_cookie(STAFF_COOKIE, sign_identity(self.secret, "instructor", role="staff"),  # type: ignore[attr-defined]
                        path="/", httponly=True, samesite="Lax", expires_days=_COOKIE_DAYS)
        self.redirect(self.request.path)  # type: ignore[attr-defined]


class SignInHandler(LabCaller, ProgressHandler):
    """``/merm/signin``: name and cohort, kept in the signed ``merm-identity`` cookie."""

    def prepare(self) -> None:  # no token login here
        return None

    def _form(self, error: bool = False, name: str = "", cohort: str = "") -> None:
        self.set_status(400 if error else 200)
        self.set_header("Cache-Control", "no-store")
        self.finish(pages.signin_page(PREFIX + "signin", _safe_next(self.get_argument("next", "/")),
                                      self.xsrf_form_html(), self.lang, error=error, name=name,
                                      cohort=cohort))

    def get(self) -> None:
        self._form()

    def post(self) -> None:
        self.check_xsrf_cookie()
        raw_name, raw_cohort = self.get_argument("name", ""), self.get_argument("cohort", "")
        name, cohort = clean_name(raw_name), clean_name(raw_cohort, COHORT_MAX)
        if not name or len(raw_name.strip()) > NAME_MAX or len(raw_cohort.strip()) > COHORT_MAX:
            self._form(error=True, name=name, cohort=cohort)
            return
        who = Identity(name, cohort=cohort or None)
        self.ctx.api.sign_in(who)
        self.set_cookie(TRAINEE_COOKIE, sign_identity(self.secret, name, cohort or None),
                        path="/", httponly=True, samesite="Lax", expires_days=_COOKIE_DAYS)
        self.redirect(_safe_next(self.get_argument("next", "/")))


class SignOutHandler(LabCaller, ProgressHandler):
    def prepare(self) -> None:
        return None

    def get(self) -> None:
        self.clear_cookie(TRAINEE_COOKIE, path="/")
        self.clear_cookie(STAFF_COOKIE, path="/")
        self.redirect(PREFIX + "signin")


class LandingHandler(LabCaller, ProgressHandler):
    """``/``: the landing page of :mod:`simulator.lab.landing` (``landing_page(lang=, user=,
    staff=)`` → HTML; ``lang`` is ``?lang=`` or the browser's first language, two letters:
    fr, en, de…), else the MR console; a visitor signs in first."""

    def prepare(self) -> None:
        return None

    async def get(self) -> None:
        who = verify_identity(self.secret, self.get_cookie(TRAINEE_COOKIE), "trainee")
        staff = verify_identity(self.secret, self.get_cookie(STAFF_COOKIE), "staff")
        if who is None and staff is None:
            self.redirect(PREFIX + "signin?" + urlencode({"next": "/"}))
            return
        try:
            from simulator.lab.landing import landing_page  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            self.redirect("/voila/render/mr_console.ipynb")
            return
        accept = (self.request.headers.get("Accept-Language") or "").split(",")[0]
        lang = (self.get_argument("lang", None) or accept.split("-")[0].split(";")[0].strip() or "fr")
        self.set_header("Cache-Control", "no-store")
        self.finish(landing_page(lang=lang.lower()[:2], user=who.name if who else None,
                                 staff=staff is not None))


def _lesson_handler() -> type:
    from simulator.lab.landing import lesson_handler

    return lesson_handler()


def gated(handler: type) -> type:
    """``handler`` (Voilà's render handler) that sends an unsigned visitor to the sign-in."""

    class GatedVoilaHandler(handler):
        async def prepare(self, *args: Any, **kwargs: Any) -> Any:
            secret = self.settings["merm_lab_secret"]
            path = self.request.path.rsplit("/", 1)[-1]
            if path not in OPEN_NOTEBOOKS and not (
                    verify_identity(secret, self.get_cookie(TRAINEE_COOKIE), "trainee")
                    or verify_identity(secret, self.get_cookie(STAFF_COOKIE), "staff")):
                self.redirect(PREFIX + "signin?" + urlencode({"next": self.request.uri}))
                return None
            return await super().prepare(*args, **kwargs)

    return GatedVoilaHandler


class LabVoila(Voila):
    """Voilà with the lab's handlers in front (same command line as ``voila``)."""

    name = "merm-lab"

    def _lab_context(self) -> Context:
        from simulator.exercises.store import ProgressStore
        from simulator.paths import data_home, default_db_url

        db_url = os.environ.pop("MERM_DB_URL", None) or default_db_url()
        token = os.environ.pop("MERM_LAB_TOKEN", None) or secrets.token_hex(24)
        course = os.environ.get("MERM_COURSE_DIR")
        api = ProgressAPI(ProgressStore(db_url), course=Path(course) if course else None)

        def hub_secret() -> bytes:
            from simulator.mentoring.widget import hub_secret as read

            return read()

        return Context(api=api, prefix=PREFIX, hub_url=os.environ.get("MERM_HUB_URL") or None,
                       hub_secret=hub_secret,
                       extra={"secret": lab_secret(data_home()), "token": token})

    def init_handlers(self) -> list[Any]:
        ctx = self._lab_context()
        self.app.settings["merm_lab_secret"] = ctx.extra["secret"]
        # the kernels learn the signed-in name from the page's cookies, and where to send it
        envs = list(self.voila_configuration.http_header_envs)
        if "cookie" not in {h.lower() for h in envs}:
            self.voila_configuration.http_header_envs = [*envs, "Cookie"]
        host = self.ip if self.ip not in ("", "0.0.0.0", "::") else "127.0.0.1"
        os.environ["MERM_LAB_URL"] = f"http://{host}:{self.port}"
        handlers = []
        for h in super().init_handlers():
            if len(h) > 1 and h[1] is TornadoVoilaHandler:
                h = (h[0], gated(TornadoVoilaHandler), *h[2:])
            handlers.append(h)
        ours: list[Any] = [
            ("/", type("Landing", (LandingHandler,), {}), {"ctx": ctx}),
            (PREFIX + "signin", SignInHandler, {"ctx": ctx}),
            (PREFIX + "signout", SignOutHandler, {"ctx": ctx}),
            (PREFIX + r"lessons/([A-Za-z0-9_-]+)", _lesson_handler()),  # read-only lessons
            *api_routes(PREFIX, LabCaller, ctx),
        ]
        self.log.info("MERM Lab: sign-in at %ssignin, instructor page at %sinstructor",
                      PREFIX, PREFIX)
        return ours + handlers


def main() -> None:
    """Run the lab server (``python -m simulator.lab``)."""
    LabVoila.launch_instance()


def instructor_url(base: str, token: str) -> str:
    """The instructor's start link that ``serve`` prints."""
    parts = urlparse(base)
    return f"{parts.scheme}://{parts.netloc}{PREFIX}instructor?token={token}"
