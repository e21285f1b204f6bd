"""Change events and language of a console session: listeners, messages, translations.

:class:`SessionEvents` is the base of :class:`~simulator.console.session.ConsoleSession`
and of its parts (:mod:`._commands`, :mod:`._scanning`, :mod:`._view_state`): every part
reports what it changed through :meth:`SessionEvents._emit` and speaks to the trainee
through :meth:`SessionEvents._say`, in the session's language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.console.i18n import tr

__all__ = ["Listener", "SessionEvents"]

Listener = Callable[[dict], None]


class SessionEvents:
    """Listeners, the last message and the language of a console session.

    Attributes
    ----------
    lang : {"fr", "en"}
        Language of the messages.
    message : str
        The last message said to the trainee.
    """

    lang: str
    message: str
    _listeners: list[Listener]

    def on_change(self, callback: Listener) -> None:
        """Call ``callback(event)`` after every change (param, progress, series, message…)."""
        self._listeners.append(callback)

    def notify(self, event: dict) -> None:
        """Tell every listener about something that happened beside the console (e.g. the
        mentoring panel's ``{"type": "mentor_called"}``, which an exercise may grade)."""
        self._emit(dict(event))

    def _emit(self, event: dict) -> None:
        for cb in list(self._listeners):
            try:
                cb(event)
            except Exception:  # a broken listener must not break the console
                import traceback

                traceback.print_exc()

    def _say(self, text: str, level: str = "info", **extra: Any) -> None:
        self.message = text
        self._emit({"type": "message", "text": text, "level": level, **extra})

    def t(self, key: str, **kw: Any) -> str:
        return tr(key, self.lang, **kw)

    def set_lang(self, lang: str) -> None:
        self.lang = lang
        self._emit({"type": "lang", "lang": lang})
