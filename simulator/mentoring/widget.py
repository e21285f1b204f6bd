"""``MentorPanel``: the trainee's "Call a mentor" panel (ipywidgets) for the consoles.

The panel opens a room on the hub, shows the invitation links (mentor, observer) with
their expiry, runs the kernel's :class:`~.trainee.TraineeLink` on the kernel's asyncio
loop, and lets the trainee grant, refuse or take back control, confirm a remote PET
acquisition, chat, consent to recording, and open their camera/microphone in the
hub-served call page (an ``<iframe allow="camera; microphone">``: an ipywidgets HTML
widget cannot run the ``getUserMedia`` script itself).
"""

from __future__ import annotations

import asyncio
import html
import io
import logging
import os
import time
from typing import TYPE_CHECKING, Any

import ipywidgets as W
import numpy as np
from PIL import Image

from simulator.errors import UserError
from simulator.paths import data_home

from ._draw import draw_overlay
from .client import create_room
from .console_link import ConsoleLike
from .tokens import load_or_create_secret

if TYPE_CHECKING:  # aiortc and av load with the trainee link, when a call starts
    from .trainee import TraineeLink

__all__ = ["MentorPanel", "hub_credential", "hub_secret"]

log = logging.getLogger("merm.mentoring")

TEXT = {
    "en": {
        "title": "Remote mentor", "call": "Call a mentor", "hang_up": "Hang up",
        "no_hub": "Mentoring hub not available (start the lab with merm-lab serve).",
        "calling": "Opening a room…", "connected": "Connected", "closed": "Not connected",
        "mentor_link": "Mentor link", "observer_link": "Observer link", "expires": "expires",
        "latency": "round trip", "control": "Control", "you": "you (trainee)",
        "asks": "asks for control", "grant": "Grant", "refuse": "Refuse",
        "take_back": "Take back control", "confirm_q": "{actor} wants to start the PET acquisition "
        "(ionising radiation). Confirm from the scanner room?", "confirm": "Start acquisition",
        "decline": "Decline", "send": "Send", "record": "I agree to this session being recorded",
        "camera": "Camera and microphone", "error": "Could not open a room: {e}",
        "no_link": "the connection to the hub failed ({e})",
        "reconnecting": "reconnecting…", "gave_up": "Connection lost: {e}",
        "calls": "{name} ({role}) is calling you: camera and microphone",
        "accept_call": "Accept the call", "decline_call": "Decline",
        "mentor": "mentor", "instructor": "instructor",
    },
    "fr": {
        "title": "Mentor à distance", "call": "Appeler un mentor", "hang_up": "Raccrocher",
        "no_hub": "Hub de mentorat indisponible (lancez le labo avec merm-lab serve).",
        "calling": "Ouverture d'une salle…", "connected": "Connecté", "closed": "Non connecté",
        "mentor_link": "Lien mentor", "observer_link": "Lien observateur", "expires": "expire",
        "latency": "aller-retour", "control": "Contrôle", "you": "vous (stagiaire)",
        "asks": "demande la main", "grant": "Accorder", "refuse": "Refuser",
        "take_back": "Reprendre la main", "confirm_q": "{actor} veut lancer l'acquisition TEP "
        "(rayonnements ionisants). Confirmer depuis la salle ?", "confirm": "Lancer l'acquisition",
        "decline": "Refuser", "send": "Envoyer", "record": "J'accepte l'enregistrement de la séance",
        "camera": "Caméra et micro", "error": "Impossible d'ouvrir une salle : {e}",
        "no_link": "la connexion au hub a échoué ({e})",
        "reconnecting": "reconnexion…", "gave_up": "Connexion perdue : {e}",
        "calls": "{name} ({role}) vous appelle : caméra et micro",
        "accept_call": "Accepter l'appel", "decline_call": "Refuser",
        "mentor": "mentor", "instructor": "formateur",
    },
    "de": {
        "title": "Mentor aus der Ferne", "call": "Mentor rufen", "hang_up": "Auflegen",
        "no_hub": "Mentoring-Hub nicht verfügbar (Labor mit merm-lab serve starten).",
        "calling": "Raum wird geöffnet…", "connected": "Verbunden", "closed": "Nicht verbunden",
        "mentor_link": "Mentor-Link", "observer_link": "Beobachter-Link", "expires": "läuft ab",
        "latency": "Umlaufzeit", "control": "Steuerung", "you": "Sie (Auszubildende/r)",
        "asks": "bittet um die Steuerung", "grant": "Gewähren", "refuse": "Ablehnen",
        "take_back": "Steuerung zurücknehmen", "confirm_q": "{actor} möchte die PET-Aufnahme "
        "starten (ionisierende Strahlung). Vom Scannerraum aus bestätigen?",
        "confirm": "Aufnahme starten", "decline": "Ablehnen", "send": "Senden",
        "record": "Ich bin mit der Aufzeichnung dieser Sitzung einverstanden",
        "camera": "Kamera und Mikrofon", "error": "Kein Raum geöffnet: {e}",
        "no_link": "die Verbindung zum Hub ist fehlgeschlagen ({e})",
        "reconnecting": "Verbindung wird wiederhergestellt…", "gave_up": "Verbindung verloren: {e}",
        "calls": "{name} ({role}) ruft Sie an: Kamera und Mikrofon",
        "accept_call": "Anruf annehmen", "decline_call": "Ablehnen",
        "mentor": "Mentor", "instructor": "Ausbilder/in",
    },
}  # fmt: skip


def hub_secret() -> bytes:
    """The secret shared with a local hub: ``$MERM_HUB_SECRET`` or ``$MERM_HOME/hub-secret``."""
    env = os.environ.get("MERM_HUB_SECRET")
    return env.encode() if env else load_or_create_secret(data_home() / "hub-secret")


def hub_credential() -> bytes:
    """What opens a room on the hub: this account's user key (``$MERM_HUB_USER_KEY``, set
    per user on a shared JupyterHub), else the hub secret (one machine, :func:`hub_secret`)."""
    key = os.environ.get("MERM_HUB_USER_KEY", "").strip()
    return key.encode() if key else hub_secret()


def _lang(lang: str) -> str:
    """``"fr"``, ``"de"`` or ``"en"`` (the console's languages)."""
    text = str(lang)
    return "fr" if text.startswith("fr") else "de" if text.startswith("de") else "en"


def _button(label: str, css: str, style: str = "") -> W.Button:
    b = W.Button(description=label, button_style=style)
    b.add_class(css)
    return b


class MentorPanel(W.VBox):
    """The "Call a mentor" panel of a console.

    Parameters
    ----------
    session : ConsoleLike
        The console model the mentor will see and, when granted, drive.
    hub_url : str, optional
        Base URL of the hub (``$MERM_HUB_URL`` when ``None``); without one the panel
        says that mentoring is not available.
    lang : str
        ``"fr"``, ``"en"`` or ``"de"``.
    name : str
        The trainee's name as mentors and the audit log see it.
    """

    def __init__(
        self,
        session: ConsoleLike,
        hub_url: str | None = None,
        lang: str = "fr",
        name: str | None = None,
        secret: bytes | None = None,
    ) -> None:
        self.session = session
        self.hub_url = hub_url or os.environ.get("MERM_HUB_URL")
        self.lang = _lang(lang)
        self.name = name or os.environ.get("JUPYTERHUB_USER") or os.environ.get("USER") or "trainee"
        self._secret = secret
        self.link: TraineeLink | None = None
        self.room: dict[str, Any] | None = None
        self.error: str | None = None
        self._task: asyncio.Future[Any] | None = None

        self.title = W.HTML()
        self.call_button = _button("", "merm-call-mentor", "primary")
        self.hang_up_button = _button("", "merm-hang-up")
        self.status = W.HTML()
        self.status.add_class("merm-mentor-status")
        self.latency = W.HTML()
        self.latency.add_class("merm-mentor-latency")
        self.links = W.HTML()
        self.links.add_class("merm-mentor-links")
        self.control = W.HTML()
        self.control.add_class("merm-mentor-control")
        self.grant_button = _button("", "merm-grant", "success")
        self.refuse_button = _button("", "merm-refuse")
        self.take_back_button = _button("", "merm-take-back", "warning")
        self.confirm_text = W.HTML()
        self.confirm_button = _button("", "merm-confirm-scan", "danger")
        self.decline_button = _button("", "merm-decline-scan")
        self.confirm_box = W.VBox(
            [self.confirm_text, W.HBox([self.confirm_button, self.decline_button])]
        )
        self.confirm_box.add_class("merm-remote-confirm")
        # an incoming call: a mentor in the room with camera and microphone (av_ready)
        self.call_text = W.HTML()
        self.call_text.add_class("merm-call-text")
        self.accept_call_button = _button("", "merm-accept-call", "success")
        self.decline_call_button = _button("", "merm-decline-call")
        self.call_box = W.VBox(
            [self.call_text, W.HBox([self.accept_call_button, self.decline_call_button])]
        )
        self.call_box.add_class("merm-incoming-call")
        self._answered_calls: set[str] = set()  # peer ids whose call was accepted or declined
        self.chat_log = W.HTML()
        self.chat_log.add_class("merm-chat-log")
        self.chat_input = W.Text()
        self.chat_input.add_class("merm-chat-input")
        self.chat_button = _button("", "merm-chat-send")
        self.consent = W.Checkbox(value=False, indent=False)
        self.consent.add_class("merm-record-consent")
        self.camera_toggle = W.ToggleButton(value=False)
        self.camera_toggle.add_class("merm-camera")
        self.camera = W.HTML()
        self.annotated = W.Image(format="png", width=320)
        self.annotated.add_class("merm-annotations-view")
        self._annotations_shown: list[dict[str, Any]] | None = None

        self.call_button.on_click(lambda _: self._spawn(self.call()))
        self.hang_up_button.on_click(lambda _: self._spawn(self.hang_up()))
        self.grant_button.on_click(lambda _: self._answer_request(grant=True))
        self.refuse_button.on_click(lambda _: self._answer_request(grant=False))
        self.take_back_button.on_click(lambda _: self._with_link(lambda link: link.take_back()))
        self.confirm_button.on_click(lambda _: self._answer_confirm(True))
        self.decline_button.on_click(lambda _: self._answer_confirm(False))
        self.accept_call_button.on_click(lambda _: self._answer_call(True))
        self.decline_call_button.on_click(lambda _: self._answer_call(False))
        self.chat_button.on_click(lambda _: self._send_chat())
        self.consent.observe(
            lambda ch: self._with_link(lambda link: link.consent(bool(ch["new"]))), "value"
        )
        self.camera_toggle.observe(lambda _: self._refresh(), "value")
        self.request_row = W.HBox(
            [self.control, self.grant_button, self.refuse_button, self.take_back_button]
        )
        super().__init__([
            self.title, W.HBox([self.call_button, self.hang_up_button, self.status, self.latency]),
            self.links, self.call_box, self.request_row, self.confirm_box, self.chat_log,
            W.HBox([self.chat_input, self.chat_button]), W.HBox([self.consent, self.camera_toggle]),
            self.annotated, self.camera,
        ])  # fmt: skip
        self.add_class("merm-mentor-panel")
        self.set_lang(self.lang)

    # ------------------------------------------------------------------ language
    def t(self, key: str, **kw: Any) -> str:
        return TEXT[self.lang][key].format(**kw)

    def set_lang(self, lang: str) -> None:
        """Switch the panel's language (``"fr"``/``"en"``/``"de"``)."""
        self.lang = _lang(lang)
        self.title.value = f"<b>{self.t('title')}</b>"
        for button, key in (
            (self.call_button, "call"), (self.hang_up_button, "hang_up"), (self.grant_button, "grant"),
            (self.refuse_button, "refuse"), (self.take_back_button, "take_back"),
            (self.confirm_button, "confirm"), (self.decline_button, "decline"), (self.chat_button, "send"),
            (self.accept_call_button, "accept_call"), (self.decline_call_button, "decline_call"),
        ):  # fmt: skip
            button.description = self.t(key)
        self.consent.description = self.t("record")
        self.camera_toggle.description = self.t("camera")
        self._refresh()

    # ------------------------------------------------------------------ actions
    def _spawn(self, coro: Any) -> asyncio.Future[Any]:
        """Run ``coro`` on the kernel's loop without blocking it."""
        task = asyncio.ensure_future(coro)
        self._task = task
        return task

    def _with_link(self, action: Any) -> None:
        if self.link is not None and self.link.connected:
            self._spawn(action(self.link))

    async def call(self) -> None:
        """Open a room, start the link, show the invitations."""
        if not self.hub_url or self.link is not None:
            return
        self.error = None
        self._answered_calls.clear()  # a new room numbers its peers anew
        self.status.value = self.t("calling")
        self.call_button.disabled = True
        try:
            secret = self._secret or hub_credential()
            label = f"{self.session.modality.upper()} — {self.name}"
            self.room = await create_room(
                self.hub_url, secret, label, self.session.modality, self.name[:40]
            )
            from .trainee import TraineeLink  # aiortc and av: only now that a call starts

            self.link = TraineeLink(
                self.session, self.hub_url, self.room["tokens"]["trainee"], self.name
            )
            self.link.on_event(lambda _msg: self._refresh())
            await self.link.start()
            notify = getattr(self.session, "notify", None)
            if callable(notify):  # an exercise that asks the trainee to call a mentor grades it
                notify({"type": "mentor_called", "room": self.room.get("room")})
        except Exception as exc:  # noqa: BLE001 - every failure is one line, never a spinner
            self.error = self.t("error", e=self._why(exc))
            link, self.link, self.room = self.link, None, None
            if link is not None:
                try:
                    await link.close()
                except Exception:  # noqa: BLE001 - closing a half-open link is best effort
                    log.debug("closing a failed link", exc_info=True)
        self._refresh()

    def _why(self, exc: BaseException) -> str:
        """One line on what went wrong, in the panel's language."""
        if isinstance(exc, UserError):
            return exc.message(self.lang)
        if isinstance(exc, TimeoutError):
            return self.t("no_link", e="timeout")
        log.warning("call a mentor failed", exc_info=exc)
        return self.t("no_link", e=type(exc).__name__)

    async def hang_up(self) -> None:
        link, self.link, self.room = self.link, None, None
        self.camera_toggle.value = False
        self._refresh()  # the button is back at once; closing the peer takes a moment
        if link is not None:
            await link.close()

    def _answer_request(self, grant: bool) -> None:
        link = self.link
        if link is None or not link.control["pending"]:
            return
        peer = link.control["pending"][0]["peer"]
        self._spawn(link.grant(peer) if grant else link.refuse(peer))

    def _answer_confirm(self, accept: bool) -> None:
        link = self.link
        if link is None or not link.pending_confirms:
            return
        self._spawn(link.confirm(min(link.pending_confirms), accept))

    def incoming_calls(self) -> list[dict[str, Any]]:
        """The mentors and instructors in the room with camera and microphone on whom the
        trainee has not answered yet, while the trainee's own camera is off."""
        link = self.link
        if link is None or not link.connected or self.camera_toggle.value:
            return []
        return [
            p for p in link.peers
            if p.get("role") in ("mentor", "instructor") and p.get("av")
            and p.get("id") not in self._answered_calls
        ]  # fmt: skip

    def _answer_call(self, accept: bool) -> None:
        """Accept: open the trainee's camera and microphone (the call page, which connects
        to every mentor with A/V). Decline: tell each caller (``av_hangup`` to them)."""
        calls = self.incoming_calls()
        self._answered_calls.update(str(p["id"]) for p in calls)
        link = self.link
        if accept:
            self.camera_toggle.value = True  # redraws
            return
        if link is not None:
            for p in calls:
                self._spawn(link.decline_call(str(p["id"])))
        self._refresh()

    def _send_chat(self) -> None:
        text = self.chat_input.value.strip()[:1000]
        if text:
            self.chat_input.value = ""
            self._with_link(lambda link: link.say(text))

    # ------------------------------------------------------------------ view
    def _refresh(self) -> None:
        link = self.link
        live = link is not None and link.connected
        self.call_button.disabled = not self.hub_url or link is not None
        self.hang_up_button.layout.display = None if link is not None else "none"
        if not self.hub_url:
            self.status.value = self.t("no_hub")
        elif self.error:
            self.status.value = f"<span style='color:#b00020'>{html.escape(self.error)}</span>"
        elif link is not None and link.reconnecting:
            self.status.value = (
                f"<span class='merm-reconnecting' style='color:#b26a00'>"
                f"{self.t('reconnecting')}</span>"
            )
        elif link is not None and link.gave_up:
            why = html.escape(self.t("gave_up", e=link.gave_up.message(self.lang)))
            self.status.value = f"<span style='color:#b00020'>{why}</span>"
        elif link is not None:
            self.status.value = self.t("connected") if live else self.t("calling")
        else:
            self.status.value = self.t("closed")
        self.latency.value = (
            f"{self.t('latency')} {link.rtt_ms:.1f} ms"
            if live and link is not None and link.rtt_ms is not None
            else ""
        )
        if self.room is not None:
            expires = time.strftime("%H:%M", time.localtime(self.room["expires"]))
            self.links.value = "".join(
                f"<div>{self.t(key)} ({self.t('expires')} {expires}): "
                f"<a href='{html.escape(self.room['links'][role])}' target='_blank' "
                f"class='merm-link-{role}'>{html.escape(self.room['links'][role])}</a></div>"
                for role, key in (("mentor", "mentor_link"), ("observer", "observer_link"))
            )
        else:
            self.links.value = ""
        ctl = link.control if link is not None else {"holder": None, "pending": []}
        holder = ctl.get("holder_name") if ctl.get("holder") else self.t("you")
        asks = ", ".join(html.escape(p["name"]) for p in ctl["pending"])
        sep = " : " if self.lang == "fr" else ": "  # French typography: a space before ":"
        self.control.value = f"{self.t('control')}{sep}<b>{html.escape(str(holder))}</b>" + (
            f" — {asks} {self.t('asks')}" if asks else ""
        )
        # shown (here and in the console's banner) while there is something to answer or
        # take back: a mentor's request, or a mentor holding control
        self.request_row.layout.display = (
            None if live and (ctl["pending"] or ctl["holder"]) else "none"
        )
        self.grant_button.layout.display = None if ctl["pending"] and not ctl["holder"] else "none"
        self.refuse_button.layout.display = None if ctl["pending"] else "none"
        self.take_back_button.layout.display = None if ctl["holder"] else "none"
        pending = link.pending_confirms if link is not None else {}
        if pending:
            first = pending[min(pending)]
            self.confirm_text.value = (
                f"<b>{html.escape(self.t('confirm_q', actor=first['actor']))}</b>"
            )
        self.confirm_box.layout.display = None if pending else "none"
        calls = self.incoming_calls()
        if calls:
            self.call_text.value = "<b>" + "<br>".join(
                html.escape(self.t("calls", name=p.get("name") or "?", role=self.t(p["role"])))
                for p in calls
            ) + "</b>"
        self.call_box.layout.display = None if calls else "none"
        chat = link.chat[-20:] if link is not None else []
        self.chat_log.value = "".join(
            f"<div><b>{html.escape(c['name'])}</b>: {html.escape(c['text'])}</div>" for c in chat
        )
        self._show_annotations(link.annotations if live and link is not None else [])
        if self.room is not None and self.camera_toggle.value:
            src = html.escape(self.room["links"]["trainee_call"] + "")
            self.camera.value = (
                f"<iframe src='{src}' allow='camera; microphone; autoplay' "
                "style='width:100%;height:220px;border:0' class='merm-call-frame'></iframe>"
            )
        else:
            self.camera.value = ""

    def _show_annotations(self, annotations: list[dict[str, Any]]) -> None:
        """The mentor's annotations over the console image (only when there are some)."""
        if annotations == self._annotations_shown:
            return
        self._annotations_shown = list(annotations)
        self.annotated.layout.display = None if annotations else "none"
        if annotations:
            rgb = draw_overlay(
                np.asarray(self.session.render_frame(320, 240), np.uint8), annotations
            )
            buf = io.BytesIO()
            Image.fromarray(rgb).save(buf, format="PNG")
            self.annotated.value = buf.getvalue()
