"""Tornado handlers of the progress API and the staff pages, shared by both servers.

A server subclasses :class:`ProgressHandler` (or mixes in) to say how a request is
authenticated (:meth:`ProgressHandler.api_caller` for the JSON API, which takes only a
header credential so that no other site can post with the browser's cookies, and
:meth:`ProgressHandler.page_caller` for the staff pages) and passes a :class:`Context`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from tornado import web

from simulator.errors import UserError
from simulator.progress import pages
from simulator.progress.api import (
    FORBIDDEN_STAFF,
    UNAUTHENTICATED,
    ApiError,
    ProgressAPI,
    parse_body,
)
from simulator.progress.board import BoardError, fetch_rooms
from simulator.progress.identity import Identity

__all__ = ["Context", "ProgressHandler", "api_routes"]


@dataclass
class Context:
    """What the handlers of one server share.

    Parameters
    ----------
    api : ProgressAPI
        The rules over the store.
    prefix : str
        The server's URL prefix of these routes, ending in ``/`` (``/services/merm-progress/``,
        ``/merm/``).
    hub_url : str or None
        The mentoring hub's internal URL (the class board lists its rooms).
    hub_secret : callable or None
        Returns the hub secret (read when the board is opened).
    """

    api: ProgressAPI
    prefix: str
    hub_url: str | None = None
    hub_secret: Callable[[], bytes] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ProgressHandler(web.RequestHandler):
    """Base: JSON and page answers, language, refusals (never a traceback)."""

    ctx: Context
    #: what a non-staff caller of a staff page or route is told
    staff_refusal: ApiError = FORBIDDEN_STAFF

    def initialize(self, ctx: Context) -> None:
        self.ctx = ctx

    # -- to override --------------------------------------------------------------
    async def api_caller(self) -> Identity | None:
        raise NotImplementedError

    async def page_caller(self) -> Identity | None:
        return await self.api_caller()

    def unauthenticated_page(self) -> None:
        """What a page answers to an unidentified visitor (a 401 page; HubOAuth: a login)."""
        self.refuse(UNAUTHENTICATED, page=True)

    # -- helpers ------------------------------------------------------------------
    @property
    def lang(self) -> str:
        return pages.page_lang(self.request.headers.get("Accept-Language"), self.get_argument("lang", None))

    def query(self) -> dict[str, str]:
        return {k: self.get_argument(k) for k in self.request.arguments}

    def send_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(data, ensure_ascii=False))

    def refuse(self, err: ApiError, page: bool = False) -> None:
        if page:
            self.set_status(err.status)
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(pages.refusal_page(err.status, err.en, err.fr, self.lang))
        else:
            self.send_json(err.body(), err.status)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        en = {404: "no such page", 405: "method not allowed"}.get(status_code, "the request failed")
        fr = {404: "page introuvable", 405: "méthode non permise"}.get(status_code, "la requête a échoué")
        self.refuse(ApiError(status_code, en, fr), page="text/html" in self.request.headers.get("Accept", ""))

    async def _api_with_body(self, run: Callable[[Identity, Any], Any]) -> None:
        """:meth:`_api` for a POST: its JSON body is parsed first, and a bad one refused."""
        try:
            body = parse_body(self.request.body)
        except ApiError as err:
            self.refuse(err)
            return
        await self._api(lambda who: run(who, body))

    async def _api(self, run: Callable[[Identity], Any], *, staff: bool = False) -> None:
        try:
            who = await self.api_caller()
            if who is None:
                raise UNAUTHENTICATED
            if staff and not who.staff:
                raise self.staff_refusal
            # grading scans a protocol: off the event loop
            data = await asyncio.get_running_loop().run_in_executor(None, run, who)
        except ApiError as err:
            self.refuse(err)
            return
        except UserError as exc:  # e.g. the store refused a value
            self.refuse(ApiError(400, exc.en, exc.fr))
            return
        except SQLAlchemyError as exc:
            self.refuse(ApiError(503, f"the progress database does not answer ({type(exc).__name__}); "
                                      "nothing was recorded, try again",
                                 f"la base de progression ne répond pas ({type(exc).__name__}) ; "
                                 "rien n'a été enregistré, réessayez"))
            return
        self.send_json(data)

    async def _page(self) -> Identity | None:
        """The staff member viewing a page, or ``None`` after answering a refusal."""
        try:
            who = await self.page_caller()
        except ApiError as err:
            self.refuse(err, page=True)
            return None
        if who is None:
            self.unauthenticated_page()
            return None
        if not who.staff:
            self.refuse(self.staff_refusal, page=True)
            return None
        return who


class AttemptsHandler(ProgressHandler):
    async def post(self) -> None:
        await self._api_with_body(self.ctx.api.submit)

    async def get(self) -> None:
        q = self.query()
        await self._api(lambda who: self.ctx.api.attempts(who, q))


class EventsHandler(ProgressHandler):
    async def post(self) -> None:
        await self._api_with_body(self.ctx.api.record_event)

    async def get(self) -> None:
        q = self.query()
        await self._api(lambda who: self.ctx.api.events(who, q))


class WhoAmIHandler(ProgressHandler):
    async def get(self) -> None:
        await self._api(self.ctx.api.whoami)


class ClassHandler(ProgressHandler):
    async def get(self) -> None:
        q = self.query()
        await self._api(lambda who: self.ctx.api.class_report(who, q), staff=True)


class CsvHandler(ProgressHandler):
    async def get(self) -> None:
        who = await self._page()
        if who is None:
            return
        text = await asyncio.get_running_loop().run_in_executor(None, self.ctx.api.csv, who, self.query())
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", "attachment; filename=merm-progress.csv")
        self.set_header("Cache-Control", "no-store")
        self.finish(text)


class InstructorPageHandler(ProgressHandler):
    async def get(self) -> None:
        who = await self._page()
        if who is None:
            return
        q = self.query()
        report = await asyncio.get_running_loop().run_in_executor(None, self.ctx.api.class_report, who, q)
        self.set_header("Cache-Control", "no-store")
        self.finish(pages.instructor_page(report, self.lang, staff_name=who.name,
                                          csv_href=self.ctx.prefix + "instructor.csv",
                                          board_href=self.ctx.prefix + "board",
                                          cohort=q.get("cohort")))


class BoardPageHandler(ProgressHandler):
    async def get(self) -> None:
        who = await self._page()
        if who is None:
            return
        lang = self.lang
        rooms: list[dict[str, Any]] | None = None
        link, error = None, None
        if not self.ctx.hub_url or self.ctx.hub_secret is None:
            error = pages.T["hub_none"][1 if lang == "en" else 0]
        else:
            try:
                secret = self.ctx.hub_secret()
                rooms, link = await asyncio.get_running_loop().run_in_executor(
                    None, fetch_rooms, self.ctx.hub_url, secret)
            except BoardError as exc:
                error = exc.en if lang == "en" else exc.fr
            except OSError as exc:  # the secret file cannot be read
                error = pages.T["hub_down"][1 if lang == "en" else 0] + str(exc)
        self.set_header("Cache-Control", "no-store")
        self.finish(pages.board_page(rooms, link, lang, staff_name=who.name,
                                     instructor_href=self.ctx.prefix + "instructor", error=error))


def api_routes(prefix: str, mixin: type, ctx: Context) -> list[tuple[str, type, dict[str, Any]]]:
    """The routes of the API and staff pages under ``prefix``, each handler made from
    ``mixin`` (the server's authentication) and the shared handler."""
    table = [("api/attempts", AttemptsHandler), ("api/events", EventsHandler),
             ("api/whoami", WhoAmIHandler), ("api/class", ClassHandler),
             ("instructor.csv", CsvHandler), ("instructor", InstructorPageHandler),
             ("board", BoardPageHandler)]
    out = []
    for path, handler in table:
        cls = type(f"{mixin.__name__}{handler.__name__}", (mixin, handler), {})
        out.append((prefix + path, cls, {"ctx": ctx}))
    return out
