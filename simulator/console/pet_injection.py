"""The injected activity, locked once the injection is recorded; corrections are audited.

On a real PET console the activity of the syringe is recorded with the injection time; it is
what the SUV divides by, so it never changes silently afterwards. :class:`ActivityLock`
holds the recorded injection and the audit trail of its corrections. Attached to a console
session it refuses a ``set_param`` of ``activity_mbq`` (from the trainee's field, the EANM
button or a mentor) with a message in the session's language, and any other protocol load
(a worklist entry, a queued protocol) keeps the injected activity and says so. The only way
to change it is :meth:`ActivityLock.correct` — a re-injection or a corrected syringe reading
— with a reason, recorded with who and when.

The session offers no hook to veto a protocol change, so :meth:`ActivityLock.attach` wraps
the session's ``apply_command`` and ``_set_protocol`` on that one instance (a guard list in
``ConsoleSession`` would replace it; see the report of issue 14).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import math
from dataclasses import dataclass
from typing import Any

from simulator.console.i18n import text_of, tr

__all__ = ["Injection", "Correction", "ActivityLock", "lock_text", "parse_activity_mbq"]

#: Texts of the activity lock: key → (fr, en, de).
_TEXT = {
    "locked": (
        "Activité verrouillée depuis l'injection de {a:.0f} MBq à {at} : utilisez « Correction "
        "/ ré-injection » (motif obligatoire, tracé).",
        "Activity locked since the injection of {a:.0f} MBq at {at}: use \"Correction / "
        "re-injection\" (a reason is required and audited).",
        "Aktivität seit der Injektion von {a:.0f} MBq um {at} gesperrt: „Korrektur / "
        "Nachinjektion“ verwenden (Begründung erforderlich, protokolliert).",
    ),
    "kept": (
        "Protocole chargé, mais l'activité injectée reste {a:.0f} MBq (injection à {at}).",
        "Protocol loaded, but the injected activity stays {a:.0f} MBq (injection at {at}).",
        "Protokoll geladen, die injizierte Aktivität bleibt {a:.0f} MBq (Injektion um {at}).",
    ),
    "injected": (
        "Injection enregistrée : {a:.0f} MBq à {at}. L'activité est verrouillée.",
        "Injection recorded: {a:.0f} MBq at {at}. The activity is locked.",
        "Injektion erfasst: {a:.0f} MBq um {at}. Die Aktivität ist gesperrt.",
    ),
    "corrected": (
        "Activité corrigée {b:.0f} → {a:.0f} MBq ({reason}) — tracé au journal.",
        "Activity corrected {b:.0f} → {a:.0f} MBq ({reason}) — written to the audit log.",
        "Aktivität korrigiert {b:.0f} → {a:.0f} MBq ({reason}) — im Protokoll vermerkt.",
    ),
    "need_reason": (
        "Indiquez le motif de la correction (ré-injection, lecture de seringue corrigée…).",
        "Give the reason for the correction (re-injection, corrected syringe reading…).",
        "Begründung der Korrektur angeben (Nachinjektion, korrigierte Spritzenmessung…).",
    ),
    "bad_activity": (
        "Activité « {v} » : entrez un nombre de MBq entre 1 et 2000 (ex. 250 ou 187,5).",
        "Activity \"{v}\": enter a number of MBq between 1 and 2000 (e.g. 250 or 187.5).",
        "Aktivität „{v}“: eine Zahl in MBq zwischen 1 und 2000 eingeben (z. B. 250 oder 187,5).",
    ),
    "not_injected": (
        "Rien à corriger : l'injection n'est pas encore enregistrée.",
        "Nothing to correct: the injection is not recorded yet.",
        "Nichts zu korrigieren: die Injektion ist noch nicht erfasst.",
    ),
    "exercise_locked": (
        "L'exercice fixe l'activité : pas de correction possible.",
        "The exercise fixes the activity: no correction possible.",
        "Die Übung legt die Aktivität fest: keine Korrektur möglich.",
    ),
    "locked_note": (
        "Activité verrouillée : {a:.0f} MBq injectés à {at}.",
        "Activity locked: {a:.0f} MBq injected at {at}.",
        "Aktivität gesperrt: {a:.0f} MBq injiziert um {at}.",
    ),
    "audit_title": ("Journal de l'injection", "Injection log", "Injektionsprotokoll"),
    "audit_injection": (
        "{at} — injection {a:.0f} MBq ({who})",
        "{at} — injection {a:.0f} MBq ({who})",
        "{at} — Injektion {a:.0f} MBq ({who})",
    ),
    "audit_correction": (
        "{at} — correction {b:.0f} → {a:.0f} MBq : {reason} ({who})",
        "{at} — correction {b:.0f} → {a:.0f} MBq: {reason} ({who})",
        "{at} — Korrektur {b:.0f} → {a:.0f} MBq: {reason} ({who})",
    ),
    "correct_button": (
        "Correction / ré-injection",
        "Correction / re-injection",
        "Korrektur / Nachinjektion",
    ),
    "correct_activity": ("Nouvelle activité (MBq)", "New activity (MBq)", "Neue Aktivität (MBq)"),
    "correct_reason": ("Motif", "Reason", "Begründung"),
}


def lock_text(key: str, lang: str, **kw: Any) -> str:
    """A text of the activity lock in ``lang``."""
    return text_of(_TEXT, key, lang, **kw)


def parse_activity_mbq(text: Any) -> float:
    """MBq typed by a technologist ("250", "187,5", " 300 MBq "); ValueError when not one.

    Accepts 1–2000 MBq (the PET protocol's range).
    """
    s = str(text).strip().lower().removesuffix("mbq").strip().replace(",", ".")
    value = float(s)  # ValueError on "abc"
    if not math.isfinite(value) or not 1.0 <= value <= 2000.0:
        raise ValueError("activity out of range")
    return value


@dataclass(frozen=True)
class Injection:
    """The recorded injection: activity (MBq), clock time (HH:MM) and who recorded it."""

    activity_mbq: float
    at: str
    actor: str = "trainee"


@dataclass(frozen=True)
class Correction:
    """One audited change of the injected activity."""

    before_mbq: float
    after_mbq: float
    reason: str
    actor: str
    at: str


def _now_hhmm() -> str:
    return dt.datetime.now().strftime("%H:%M")


class ActivityLock:
    """The exam's injection and its corrections; :meth:`attach` makes a session obey it."""

    def __init__(self) -> None:
        self.injection: Injection | None = None
        self.corrections: list[Correction] = []
        self._session: Any = None
        self._correcting = False

    @property
    def locked(self) -> bool:
        return self.injection is not None

    @property
    def activity_mbq(self) -> float | None:
        return None if self.injection is None else self.injection.activity_mbq

    # ------------------------------------------------------------------ the session
    def attach(self, session: Any) -> None:
        """Make ``session`` refuse or keep out any change of the injected activity."""
        self._session = session
        apply_command, set_protocol = session.apply_command, session._set_protocol

        def guarded_apply(command: Any, actor: str = "local", role: str = "trainee") -> dict:
            if (
                self.locked
                and not self._correcting
                and isinstance(command, dict)
                and command.get("type") == "set_param"
                and command.get("name") == "activity_mbq"
            ):
                msg = self.text("locked")
                session.notify(
                    {"type": "message", "text": msg, "level": "error", "name": "activity_mbq"}
                )
                return {"ok": False, "message": msg, "before": None, "after": None}
            return apply_command(command, actor, role)

        def guarded_set_protocol(protocol: Any) -> None:
            a = self.activity_mbq
            if a is not None and not self._correcting and protocol.activity_mbq != a:
                protocol = dataclasses.replace(protocol, activity_mbq=a)
                set_protocol(protocol)
                session.notify({"type": "message", "text": self.text("kept"), "level": "warning"})
                return
            set_protocol(protocol)

        session.apply_command = guarded_apply
        session._set_protocol = guarded_set_protocol

    def text(self, key: str, **kw: Any) -> str:
        lang = getattr(self._session, "lang", "en")
        inj = self.injection
        if inj is not None:
            kw = {"a": inj.activity_mbq, "at": inj.at, **kw}
        return lock_text(key, lang, **kw)

    # ------------------------------------------------------------------ actions
    def record(self, activity_mbq: float, at: str | None = None, actor: str = "trainee") -> str:
        """Record the injection of ``activity_mbq`` (now, or at ``at`` HH:MM); lock it."""
        self.injection = Injection(float(activity_mbq), at or _now_hhmm(), actor)
        self.corrections = []
        self._audit("injection", activity_mbq=float(activity_mbq), actor=actor)
        return self.text("injected")

    def reset(self) -> None:
        """A new exam (a new patient or exercise): nothing injected yet."""
        self.injection, self.corrections = None, []

    def correct(self, value: Any, reason: str, actor: str = "trainee") -> tuple[bool, str]:
        """Change the injected activity (re-injection / corrected reading) with a reason.

        Returns (ok, message in the session's language); a refusal changes nothing.
        """
        s = self._session
        if self.injection is None:
            return False, self.text("not_injected")
        if s is not None and s.is_locked("activity_mbq"):
            return False, self.text("exercise_locked")
        try:
            new = parse_activity_mbq(value)
        except ValueError:
            return False, self.text("bad_activity", v=html.escape(str(value)[:40]))
        reason = " ".join(str(reason or "").split())[:200]
        if not reason:
            return False, self.text("need_reason")
        before = self.injection.activity_mbq
        if s is not None:
            self._correcting = True
            try:
                result = s.load_protocol(
                    dataclasses.replace(s.protocol, activity_mbq=new), standard=False
                )
            finally:
                self._correcting = False
            if not result["ok"]:
                return False, result["message"]
        at = _now_hhmm()
        self.injection = dataclasses.replace(self.injection, activity_mbq=new)
        self.corrections.append(Correction(before, new, reason, actor, at))
        self._audit("activity_correction", before_mbq=before, after_mbq=new, reason=reason,
                    actor=actor)
        return True, self.text("corrected", b=before, a=new, reason=html.escape(reason))

    def _audit(self, kind: str, **fields: Any) -> None:
        """Tell the session's listeners (mentoring, exercise) what happened to the syringe."""
        if self._session is not None:
            self._session.notify({"type": kind, **fields})

    def audit_html(self, lang: str) -> str:
        """The injection and its corrections, one line each (who in words: the trainee, or
        the mentor's name)."""
        inj = self.injection
        if inj is None:
            return ""

        def who(actor: str) -> str:
            if actor in ("trainee", "local", "mentor", "instructor"):
                return tr("role_" + ("trainee" if actor == "local" else actor), lang)
            return html.escape(actor)

        first = inj.activity_mbq if not self.corrections else self.corrections[0].before_mbq
        lines = [lock_text("audit_injection", lang, at=inj.at, a=first, who=who(inj.actor))]
        lines += [
            lock_text("audit_correction", lang, at=c.at, b=c.before_mbq, a=c.after_mbq,
                      reason=html.escape(c.reason), who=who(c.actor))
            for c in self.corrections
        ]
        return f"<b>{lock_text('audit_title', lang)}</b><br>" + "<br>".join(lines)
