"""The hospital side of the consoles: a modality-worklist picker for the patient step and a
"Send to PACS" button with a status per series.

Both appear only when configured: ``MERM_WORKLIST=AET@host:port`` (``serve --worklist``) adds
the picker above the scenario list, ``MERM_PACS=AET@host:port`` (``serve --pacs``) the send
button under the viewer; ``MERM_PACS_WEB`` (Orthanc's HTTP address) adds a viewer link per
sent series. Without them the console is unchanged: today's scenarios stay the default.
Network work runs in a thread; every failure is one line in the console's language.
"""

from __future__ import annotations

import html
import os
import threading
from typing import Any

import ipywidgets as W

__all__ = ["WorklistPicker", "PacsPanel", "attach", "patient_for_procedure", "TEXTS"]

#: The panel's own texts (fr, en, de).
TEXTS: dict[str, dict[str, str]] = {
    "worklist": {
        "fr": "Liste de travail",
        "en": "Worklist",
        "de": "Arbeitsliste",
    },
    "worklist_refresh": {
        "fr": "Actualiser",
        "en": "Refresh",
        "de": "Aktualisieren",
    },
    "worklist_none": {
        "fr": "(aucune procédure planifiée)",
        "en": "(no scheduled procedure)",
        "de": "(keine geplante Untersuchung)",
    },
    "worklist_pick": {
        "fr": "— choisir une procédure —",
        "en": "— choose a procedure —",
        "de": "— Untersuchung wählen —",
    },
    "worklist_count": {
        "fr": "{n} procédure(s) planifiée(s)",
        "en": "{n} scheduled procedure(s)",
        "de": "{n} geplante Untersuchung(en)",
    },
    "worklist_chosen": {
        "fr": "Accession {acc} — {proc} — protocole {protocol}",
        "en": "Accession {acc} — {proc} — protocol {protocol}",
        "de": "Accession {acc} — {proc} — Protokoll {protocol}",
    },
    "send_pacs": {
        "fr": "Envoyer au PACS",
        "en": "Send to PACS",
        "de": "An PACS senden",
    },
    "resend_pacs": {
        "fr": "Renvoyer les séries en échec",
        "en": "Resend failed series",
        "de": "Fehlgeschlagene Serien erneut senden",
    },
    "pacs_sending": {
        "fr": "Envoi à {addr}…",
        "en": "Sending to {addr}…",
        "de": "Senden an {addr}…",
    },
    "pacs_no_series": {
        "fr": "aucune série à envoyer",
        "en": "no series to send",
        "de": "keine Serie zum Senden",
    },
    "pacs_sent": {
        "fr": "envoyée",
        "en": "sent",
        "de": "gesendet",
    },
    "pacs_failed": {
        "fr": "échec",
        "en": "failed",
        "de": "fehlgeschlagen",
    },
    "pacs_view": {
        "fr": "voir",
        "en": "view",
        "de": "ansehen",
    },
    "pacs_summary": {
        "fr": "{sent}/{n} série(s) envoyée(s) à {addr}",
        "en": "{sent}/{n} series sent to {addr}",
        "de": "{sent}/{n} Serie(n) an {addr} gesendet",
    },
    "pacs_not_saved": {
        "fr": "envoi non enregistré dans le suivi : {why}",
        "en": "send not recorded in the progress store: {why}",
        "de": "Senden nicht im Fortschritt gespeichert: {why}",
    },
    "pacs_resend_hint": {
        "fr": "à renvoyer : séries {which} (les fichiers sont conservés)",
        "en": "to resend: series {which} (the files are kept)",
        "de": "erneut senden: Serien {which} (die Dateien bleiben erhalten)",
    },
}


def _t(lang: str, key: str, **kw: Any) -> str:
    entry = TEXTS[key]
    return entry.get(lang, entry["en"]).format(**kw)


def patient_for_procedure(sp: Any) -> Any:
    """The console :class:`~simulator.console.patient.Patient` of a worklist entry.

    An entry written from a lab scenario (PatientID ``MERM-<KEY>``) brings back that
    scenario's patient, implants included (the screening checks against them); any other
    entry gives a calm patient with no implant record, from the worklist's demographics.
    """
    import datetime as dt

    from simulator.console.patient import SCENARIOS, Patient
    from simulator.hospital.worklist import pet_scenario_patient, scenario_key

    key = scenario_key(sp.patient_id)
    if key is not None:
        return SCENARIOS[key]
    pet = pet_scenario_patient(sp)  # a PET scenario's patient, indication in fr/en/de
    if pet is not None:
        return pet
    anatomy = sp.protocol.split("/", 1)[0] if sp.protocol else ""
    try:
        age = max(dt.date.today().year - int(sp.birth_date[:4]), 0)
    except ValueError:
        age = 0
    name = sp.patient_name.split("^", 1)[-1].replace("_", " ") or sp.patient_id
    return Patient(
        f"wl-{sp.accession_number}",
        name,
        age,
        sp.sex if sp.sex in ("F", "M", "O") else "O",
        sp.weight_kg or 70.0,
        anatomy,
        None,
        sp.reason or sp.procedure_description,
        sp.reason or sp.procedure_description,
        "calm",
    )


class WorklistPicker:
    """The scheduled procedures of the worklist (C-FIND); choosing one admits its patient,
    opens the exam with its accession number and requested procedure, loads its protocol."""

    def __init__(self, session: Any, labels: Any, card: Any, address: Any) -> None:
        self.session, self.L, self.card, self.address = session, labels, card, address
        self.procedures: list[Any] = []
        self.dropdown = W.Dropdown(options=[], layout=W.Layout(width="440px"))
        self.dropdown.add_class("merm-worklist")
        self.refresh_button = W.Button(icon="refresh")
        self.refresh_button.add_class("merm-worklist-refresh")
        self.status = W.HTML()
        self.status.add_class("merm-worklist-status")
        self.title = W.HTML()
        self.widget = W.VBox(
            [self.title, W.HBox([self.dropdown, self.refresh_button]), self.status]
        )
        self.widget.add_class("merm-worklist-box")
        self._filling = False
        self.dropdown.observe(lambda ch: None if self._filling else self.choose(ch["new"]), "value")
        self.refresh_button.on_click(lambda _b: self.refresh())
        labels.on_switch(lambda lang: self._relabel())
        self._relabel()

    @property
    def lang(self) -> str:
        return str(self.L.lang)

    def _relabel(self) -> None:
        self.title.value = f"<b>{html.escape(_t(self.lang, 'worklist'))}</b> ({self.address})"
        self.refresh_button.description = _t(self.lang, "worklist_refresh")
        self._fill()

    def _fill(self) -> None:
        first = _t(self.lang, "worklist_pick" if self.procedures else "worklist_none")
        options = [(first, -1)] + [(sp.label, i) for i, sp in enumerate(self.procedures)]
        value = self.dropdown.value if self.dropdown.value is not None else -1
        self._filling = True
        try:
            self.dropdown.options = options
            self.dropdown.value = value if -1 <= value < len(self.procedures) else -1
        finally:
            self._filling = False

    def refresh(self) -> list[Any]:
        """C-FIND the worklist (the console's modality); returns the entries listed."""
        from simulator.errors import UserError
        from simulator.hospital.worklist import find_worklist

        modality = "MR" if self.session.modality == "mr" else "PT"
        try:
            self.procedures = find_worklist(self.address, modality)
        except UserError as exc:
            self.procedures = []
            self.status.value = (
                f"<span style='color:#b00020'>{html.escape(exc.message(self.lang))}</span>"
            )
        else:
            self.status.value = html.escape(_t(self.lang, "worklist_count", n=len(self.procedures)))
        self._fill()
        return self.procedures

    def choose(self, index: int | None) -> None:
        """Start the exam of entry ``index`` (the dropdown does this on a choice)."""
        from simulator.hospital.exam import set_worklist_entry

        if index is None or not 0 <= index < len(self.procedures):
            return
        sp = self.procedures[index]
        patient = patient_for_procedure(sp)
        self.card.admit_patient(patient)
        set_worklist_entry(self.session, sp)
        anatomy, _, preset = sp.protocol.partition("/")
        s = self.session
        if preset and s.modality == "mr" and anatomy in ("brain", "knee", "spine"):
            if preset in s.backend.preset_names(anatomy):
                s.set_anatomy(anatomy, patient.pathology, preset)
        self.status.value = html.escape(
            _t(
                self.lang,
                "worklist_chosen",
                acc=sp.accession_number,
                proc=sp.procedure_description,
                protocol=sp.protocol or "—",
            )
        )


class PacsPanel:
    """ "Send to PACS" (``.merm-send-pacs``) and a status per series: sent (with the viewer
    link) or failed and why; a failed series can be sent again."""

    def __init__(
        self,
        session: Any,
        labels: Any,
        address: Any,
        web_base: str = "",
        *,
        store: Any = None,
        user: str | None = None,
        exercise_id: Any = None,
    ) -> None:
        self.session, self.L, self.address, self.web_base = session, labels, address, web_base
        #: Progress store (or client) the sends are recorded in; None: the kernel's own.
        self.store, self.user = store, user
        #: Callable giving the console's current exercise id (or None).
        self.exercise_id = exercise_id or (lambda: None)
        self.button = W.Button(icon="upload", button_style="info")
        self.button.add_class("merm-send-pacs")
        self.resend = W.Button(icon="repeat", layout=W.Layout(display="none"))
        self.resend.add_class("merm-resend-pacs")
        self.status = W.HTML()
        self.status.add_class("merm-pacs-status")
        self.widget = W.VBox([W.HBox([self.button, self.resend]), self.status])
        self.widget.add_class("merm-pacs")
        self.thread: threading.Thread | None = None
        self.button.on_click(lambda _b: self.send())
        self.resend.on_click(lambda _b: self.send(only_failed=True))
        labels.on_switch(lambda lang: self._relabel())
        self._relabel()

    @property
    def lang(self) -> str:
        return str(self.L.lang)

    def _relabel(self) -> None:
        self.button.description = _t(self.lang, "send_pacs")
        self.resend.description = _t(self.lang, "resend_pacs")
        if self.thread is None or not self.thread.is_alive():
            self.show()

    def send(self, only_failed: bool = False, wait: bool = False) -> None:
        """Send the exam's series in a worker thread (``wait``: join it, for scripts)."""
        if self.thread is not None and self.thread.is_alive():
            return
        if not self.session.series:
            self.status.value = html.escape(_t(self.lang, "pacs_no_series"))
            return
        self.button.disabled = self.resend.disabled = True
        self.status.value = html.escape(_t(self.lang, "pacs_sending", addr=self.address))
        self.thread = threading.Thread(
            target=self._run, args=(only_failed,), daemon=True, name="merm-pacs-send"
        )
        self.thread.start()
        if wait:
            self.thread.join()

    def _run(self, only_failed: bool) -> None:
        from simulator.errors import UserError
        from simulator.hospital.exam import send_exam

        error = ""
        try:
            statuses = send_exam(
                self.session,
                self.address,
                web_base=self.web_base,
                only_failed=only_failed,
                on_status=lambda _st: self.show(),
            )
            error = self._record(statuses)
        except UserError as exc:  # e.g. the outbox cannot be written
            error = exc.message(self.lang)
        except OSError as exc:
            error = str(exc)
        finally:
            self.button.disabled = self.resend.disabled = False
        self.show(error)

    def _record(self, statuses: list[Any]) -> str:
        """Record the send for the instructor and the exercise objective; the error text
        when the progress store cannot be reached (the send itself stands)."""
        from simulator.hospital.progress import record_send

        try:
            if self.store is None:
                from simulator.progress.client import progress_client

                self.store = progress_client()
            user = (
                self.user
                or getattr(self.store, "user", None)
                or os.environ.get("USER")
                or "trainee"
            )
            record_send(
                self.store, user, statuses, pacs=str(self.address), exercise_id=self.exercise_id()
            )
        except Exception as exc:  # the store may be down or refuse: the series are in the PACS
            return _t(self.lang, "pacs_not_saved", why=f"{type(exc).__name__}: {exc}")
        return ""

    def statuses(self) -> list[Any]:
        """The latest status of each series sent or tried, by Series Number."""
        from simulator.hospital.exam import exam_for

        return sorted(exam_for(self.session).statuses.values(), key=lambda s: s.number)

    def show(self, error: str = "") -> None:
        """Render the per-series list (``.merm-pacs-series`` rows, ``data-state``)."""
        lang = self.lang
        rows = []
        statuses = self.statuses() if getattr(self.session, "hospital_exam", None) else []
        for st in statuses:
            if st.state == "sent":
                link = (
                    f" <a class='merm-pacs-view' href='{html.escape(st.viewer_url)}' "
                    f"target='_blank'>{_t(lang, 'pacs_view')}</a>"
                    if st.viewer_url
                    else ""
                )
                what = f"✓ {_t(lang, 'pacs_sent')}{link}"
            else:
                what = (
                    f"<span style='color:#b00020'>✗ {_t(lang, 'pacs_failed')}: "
                    f"{html.escape(st.reason(lang))}</span>"
                )
            rows.append(
                f"<li class='merm-pacs-series' data-state='{st.state}' data-number='{st.number}'>"
                f"{st.number}. {html.escape(st.description)} — {what}</li>"
            )
        failed = [str(s.number) for s in statuses if s.state != "sent"]
        head = ""
        if statuses:
            sent = len(statuses) - len(failed)
            head = html.escape(
                _t(lang, "pacs_summary", sent=sent, n=len(statuses), addr=self.address)
            )
            if failed:
                head += "<br>" + html.escape(_t(lang, "pacs_resend_hint", which=", ".join(failed)))
        if error:
            head = f"<span style='color:#b00020'>{html.escape(error)}</span><br>{head}"
        self.resend.layout.display = "" if failed else "none"
        self.status.value = f"{head}<ul>{''.join(rows)}</ul>" if rows else head


def attach(console: Any, exam_box: Any = None, viewer_box: Any = None) -> None:
    """Add the worklist picker and the PACS panel to a console when configured.

    ``exam_box``: the patient step's VBox (the picker goes first); ``viewer_box``: the VBox
    under which the PACS panel goes. Reads ``MERM_WORKLIST``, ``MERM_PACS`` and
    ``MERM_PACS_WEB``; a malformed address is shown as the console's message and the
    console stays as it is.
    """
    from simulator.errors import UserError
    from simulator.hospital.address import from_env
    from simulator.hospital.exam import watch
    from simulator.hospital.orthanc import web_base

    session, labels = console.session, console.L
    watch(session)  # one exam (one Study) per patient admitted
    try:
        worklist = from_env("MERM_WORKLIST")
        pacs = from_env("MERM_PACS")
    except UserError as exc:
        session._say(exc.message(labels.lang), "error")
        return
    if worklist is not None and exam_box is not None and hasattr(console, "patient"):
        picker = WorklistPicker(session, labels, console.patient, worklist)
        exam_box.children = [picker.widget, *exam_box.children]
        console.worklist = picker
        threading.Thread(target=picker.refresh, daemon=True, name="merm-worklist").start()
    if pacs is not None and viewer_box is not None:
        dropdown = getattr(console, "exercise_dd", None)
        panel = PacsPanel(
            session,
            labels,
            pacs,
            web_base(),
            exercise_id=lambda: getattr(dropdown, "value", None) or None,
        )
        viewer_box.children = [*viewer_box.children, panel.widget]
        console.pacs = panel


def configured() -> bool:
    """Whether a worklist or a PACS is configured in the environment."""
    return bool(os.environ.get("MERM_WORKLIST") or os.environ.get("MERM_PACS"))
