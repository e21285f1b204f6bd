"""The PET patient-preparation card: fasting, blood glucose, injection and scan times.

What a technologist checks before and after an FDG injection, against the EANM 2015
procedure guideline for tumour imaging (Boellaard et al., Eur J Nucl Med Mol Imaging
2015;42:328–354):

- fasting at least 4 h (6 h is often asked): :data:`FASTING_MIN_H`, :data:`FASTING_PREFERRED_H`;
- blood glucose: reschedule at ≥ 11 mmol/L (200 mg/dL) for a clinical study; quantitative
  (trial, response) studies ask below 7 mmol/L (126 mg/dL): :data:`GLUCOSE_RESCHEDULE_MMOL_L`,
  :data:`GLUCOSE_QUANT_MMOL_L`;
- uptake time 60 min, 55–75 min accepted (:data:`simulator.pet.uptake.EANM_UPTAKE_RANGE_MIN`);
- diabetes medication (EANM 2015 §"Patient preparation", diabetic patients): FDG no sooner
  than 4 h after subcutaneous rapid-acting insulin, 6 h after short-acting insulin, not on
  the day of an intermediate- or long-acting insulin injection, an insulin pump switched off
  at least 4 h before (:data:`INSULIN_MIN_INTERVAL_MIN`); metformin raises intestinal (colon)
  FDG uptake, stopped 48 h before when the abdomen is of interest (Gontier E. et al., Eur J
  Nucl Med Mol Imaging 2008;35:95–99);
- pregnancy and breastfeeding, asked of every woman of child-bearing age (Council Directive
  2013/59/Euratom, art. 62). A pregnancy declared or not excluded needs the nuclear-medicine
  physician's justification before the injection (ICRP Publication 84, 2000; EANM 2015):
  the card blocks the injection until it is confirmed (:func:`injection_blocked`).
  Breastfeeding: ICRP Publications 106 (2008) and 128 (2015) need no interruption for
  F-18 FDG (infant dose well below 1 mSv, little FDG in the milk; most of the infant's dose
  comes from contact with the breast); as a precaution (ALARA) milk is pumped before the
  injection and given by a third person for the next 4 h, and close contact is limited for
  the first 12 h (:data:`BREASTFEEDING_PAUSE_H`, :data:`BREASTFEEDING_CONTACT_H`);
- height (cm) with the weight gives the body-mass index (WHO: obesity from 30 kg/m²),
  where counts per kg and image noise fall.

Glucose is typed as French and European technologists write it: mmol/L, mg/dL or g/L,
with a decimal comma or point ("5,4", "98", "1,10"). The card shows the consequence in
physical terms: the activity left at the scan (F-18 decay) and the change of tumour SUV
with the uptake time (:func:`simulator.pet.uptake.suv_ratio`: irreversible FDG model,
Feng 1993 input function). High glucose lowers tumour SUV (glucose competes with FDG for
transport and phosphorylation); the card warns only and does not model it (EANM 2015 does
not recommend correcting SUV for glucose routinely).

The parsing and checks are pure functions (:func:`parse_glucose_mmol_l`,
:func:`parse_clock_min`, :func:`check_preparation`); :class:`PrepCard` is the widget.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ipywidgets as W

from simulator.console.i18n import Labels, text_of
from simulator.durations import format_mmss
from simulator.pet.tracers import TRACERS
from simulator.pet.uptake import EANM_UPTAKE_MIN, EANM_UPTAKE_RANGE_MIN, suv_ratio

__all__ = [
    "GLUCOSE_UNITS",
    "MG_DL_PER_MMOL_L",
    "Preparation",
    "Finding",
    "PrepInputError",
    "parse_number",
    "parse_glucose_mmol_l",
    "parse_clock_min",
    "parse_height_cm",
    "body_mass_index",
    "uptake_between",
    "injection_blocked",
    "check_preparation",
    "consequence_lines",
    "prep_text",
    "PrepCard",
]

FASTING_MIN_H = 4.0
FASTING_PREFERRED_H = 6.0
GLUCOSE_RESCHEDULE_MMOL_L = 11.0
GLUCOSE_QUANT_MMOL_L = 7.0
#: 1 mmol/L of glucose (C6H12O6, 180.156 g/mol) is 180.156 mg/L = 18.0156 mg/dL.
MG_DL_PER_MMOL_L = 18.0156
#: unit → mmol/L per unit.
GLUCOSE_UNITS: dict[str, float] = {
    "mmol/L": 1.0,
    "mg/dL": 1.0 / MG_DL_PER_MMOL_L,
    "g/L": 100.0 / MG_DL_PER_MMOL_L,
}
#: What a glucose meter can read (mmol/L); outside, the value is a typing slip.
GLUCOSE_RANGE_MMOL_L = (1.0, 40.0)
#: Heights a card accepts (cm); outside, a typing slip.
HEIGHT_RANGE_CM = (50.0, 250.0)
#: WHO: a body-mass index of 30 kg/m² or more is obesity.
BMI_OBESE_KG_M2 = 30.0
#: Pregnancy answers: not asked yet, no, not excluded, yes.
PREGNANCY = ("", "no", "possible", "yes")
#: Diabetes medication choices of the card.
DIABETES_MEDS = ("none", "metformin", "insulin_rapid", "insulin_short", "insulin_long",
                 "insulin_pump")
#: EANM 2015: least time (min) from the last insulin (or the pump switched off) to FDG.
INSULIN_MIN_INTERVAL_MIN = {"insulin_rapid": 240, "insulin_short": 360, "insulin_pump": 240}
#: ICRP 106/128: no interruption needed for F-18 FDG; precaution: 4 h pause, 12 h contact.
BREASTFEEDING_PAUSE_H = 4
BREASTFEEDING_CONTACT_H = 12

#: Texts of the card: key → (fr, en, de).
_TEXT: dict[str, tuple[str, str, str]] = {
    "title": ("Préparation du patient (EANM 2015)", "Patient preparation (EANM 2015)",
              "Patientenvorbereitung (EANM 2015)"),
    "fasting": ("Jeûne (h)", "Fasting (h)", "Nüchtern (h)"),
    "glucose": ("Glycémie", "Blood glucose", "Blutzucker"),
    "unit": ("Unité", "Unit", "Einheit"),
    "injection": ("Heure d'injection", "Injection time", "Injektionszeit"),
    "scan_start": ("Début d'acquisition", "Scan start", "Aufnahmebeginn"),
    "check": ("Vérifier", "Check", "Prüfen"),
    "clock_hint": ("HH:MM", "HH:MM", "HH:MM"),
    "all_ok": ("Préparation conforme au guide EANM 2015.",
               "Preparation within the EANM 2015 guideline.",
               "Vorbereitung entspricht der EANM-Leitlinie 2015."),
    "incomplete": ("Renseignez le jeûne, la glycémie et les heures d'injection et "
                   "d'acquisition.",
                   "Fill in fasting, blood glucose and the injection and scan times.",
                   "Nüchternzeit, Blutzucker sowie Injektions- und Aufnahmezeit eintragen."),
    "fasting_out": ("Jeûne {h:.1f} h : moins des 4 h minimum (EANM 2015) — la captation "
                    "musculaire et myocardique augmente, le SUV tumoral baisse. Reporter ou "
                    "avertir le médecin.",
                    "Fasting {h:.1f} h: below the 4 h minimum (EANM 2015) — muscle and "
                    "myocardial uptake rise, tumour SUV drops. Reschedule or tell the "
                    "physician.",
                    "Nüchtern {h:.1f} h: unter dem Minimum von 4 h (EANM 2015) — Muskel- und "
                    "Myokardaufnahme steigen, Tumor-SUV sinkt. Verschieben oder Arzt "
                    "informieren."),
    "fasting_short": ("Jeûne {h:.1f} h : minimum atteint, 6 h sont souvent demandées.",
                      "Fasting {h:.1f} h: minimum met, 6 h are often asked for.",
                      "Nüchtern {h:.1f} h: Minimum erreicht, oft werden 6 h verlangt."),
    "glucose_out": ("Glycémie {mmol:.1f} mmol/L ({mgdl:.0f} mg/dL) ≥ 11 mmol/L : hors guide "
                    "EANM 2015, reporter l'examen (ou décision médicale). Le glucose entre en "
                    "compétition avec le FDG : SUV tumoral abaissé.",
                    "Blood glucose {mmol:.1f} mmol/L ({mgdl:.0f} mg/dL) ≥ 11 mmol/L: outside "
                    "the EANM 2015 guideline, reschedule (or a physician's decision). Glucose "
                    "competes with FDG: tumour SUV lowered.",
                    "Blutzucker {mmol:.1f} mmol/L ({mgdl:.0f} mg/dL) ≥ 11 mmol/L: außerhalb "
                    "der EANM-Leitlinie 2015, Untersuchung verschieben (oder ärztliche "
                    "Entscheidung). Glukose konkurriert mit FDG: Tumor-SUV erniedrigt."),
    "glucose_high": ("Glycémie {mmol:.1f} mmol/L ({mgdl:.0f} mg/dL) ≥ 7 mmol/L : accepté en "
                     "clinique, pas pour une étude quantitative (SUV tumoral abaissé, non "
                     "corrigé).",
                     "Blood glucose {mmol:.1f} mmol/L ({mgdl:.0f} mg/dL) ≥ 7 mmol/L: "
                     "accepted clinically, not for a quantitative study (tumour SUV lowered, "
                     "not corrected).",
                     "Blutzucker {mmol:.1f} mmol/L ({mgdl:.0f} mg/dL) ≥ 7 mmol/L: klinisch "
                     "akzeptiert, nicht für eine quantitative Studie (Tumor-SUV erniedrigt, "
                     "nicht korrigiert)."),
    "uptake_out": ("Fixation {u:.0f} min hors de la fenêtre EANM 55–75 min : SUV non "
                   "comparable à un examen à 60 min.",
                   "Uptake {u:.0f} min outside the EANM 55–75 min window: SUV not comparable "
                   "with a 60-min exam.",
                   "Aufnahmezeit {u:.0f} min außerhalb des EANM-Fensters 55–75 min: SUV nicht "
                   "mit einer 60-min-Untersuchung vergleichbar."),
    "conseq_decay": ("Fixation {u:.0f} min : il reste {pct:.0f} % de l'activité injectée au "
                     "début de l'acquisition (décroissance du F-18, T½ {t12:.1f} min) ; le SUV "
                     "est corrigé de la décroissance, les coups (et le bruit) non.",
                     "Uptake {u:.0f} min: {pct:.0f} % of the injected activity is left at the "
                     "scan start (F-18 decay, T½ {t12:.1f} min); SUV is decay-corrected, the "
                     "counts (and noise) are not.",
                     "Aufnahmezeit {u:.0f} min: bei Aufnahmebeginn sind noch {pct:.0f} % der "
                     "injizierten Aktivität vorhanden (F-18-Zerfall, T½ {t12:.1f} min); der "
                     "SUV ist zerfallskorrigiert, die Zählraten (und das Rauschen) nicht."),
    "conseq_kinetics": ("SUV tumoral attendu {sign}{pct:.0f} % par rapport à 60 min (modèle FDG "
                        "irréversible à 2 compartiments, fonction d'entrée de Feng 1993 ; "
                        "ordre de grandeur, non simulé dans l'image).",
                        "Expected tumour SUV {sign}{pct:.0f} % against 60 min (irreversible "
                        "two-tissue FDG model, Feng 1993 input function; an order of "
                        "magnitude, not simulated in the image).",
                        "Erwarteter Tumor-SUV {sign}{pct:.0f} % gegenüber 60 min "
                        "(irreversibles Zwei-Gewebe-FDG-Modell, Eingangsfunktion nach Feng "
                        "1993; Größenordnung, im Bild nicht simuliert)."),
    "applied": ("Fixation de {u:.0f} min reportée dans le protocole.",
                "Uptake of {u:.0f} min set in the protocol.",
                "Aufnahmezeit {u:.0f} min ins Protokoll übernommen."),
    "bad_number": ("{what} « {v} » : entrez un nombre (ex. {example}).",
                   "{what} \"{v}\": enter a number (e.g. {example}).",
                   "{what} „{v}“: eine Zahl eingeben (z. B. {example})."),
    "bad_fasting": ("Jeûne « {v} » : entrez des heures entre 0 et 72 (ex. 6 ou 5,5).",
                    "Fasting \"{v}\": enter hours between 0 and 72 (e.g. 6 or 5.5).",
                    "Nüchtern „{v}“: Stunden zwischen 0 und 72 eingeben (z. B. 6 oder 5,5)."),
    "bad_glucose": ("Glycémie « {v} » : entrez une valeur entre 1 et 40 mmol/L (18–720 mg/dL, "
                    "0,18–7,2 g/L), ex. 5,4 mmol/L ou 98 mg/dL.",
                    "Blood glucose \"{v}\": enter a value between 1 and 40 mmol/L (18–720 "
                    "mg/dL, 0.18–7.2 g/L), e.g. 5.4 mmol/L or 98 mg/dL.",
                    "Blutzucker „{v}“: einen Wert zwischen 1 und 40 mmol/L (18–720 mg/dL, "
                    "0,18–7,2 g/L) eingeben, z. B. 5,4 mmol/L oder 98 mg/dL."),
    "bad_clock": ("{what} « {v} » : entrez une heure HH:MM (ex. 08:30 ou 8h30).",
                  "{what} \"{v}\": enter a time HH:MM (e.g. 08:30 or 8h30).",
                  "{what} „{v}“: eine Uhrzeit HH:MM eingeben (z. B. 08:30 oder 8h30)."),
    "negative_uptake": ("Début d'acquisition {scan} avant l'injection {inj} : la fixation "
                        "serait négative. Corrigez l'une des heures.",
                        "Scan start {scan} before the injection {inj}: the uptake would be "
                        "negative. Correct one of the times.",
                        "Aufnahmebeginn {scan} vor der Injektion {inj}: die Aufnahmezeit wäre "
                        "negativ. Eine der Zeiten korrigieren."),
    "uptake_too_long": ("Fixation {u:.0f} min : plus de 5 h, vérifiez les heures.",
                        "Uptake {u:.0f} min: over 5 h, check the times.",
                        "Aufnahmezeit {u:.0f} min: über 5 h, Zeiten prüfen."),
    "uptake_locked": ("L'exercice fixe la fixation à {u:.0f} min : le protocole n'est pas "
                      "modifié.",
                      "The exercise fixes the uptake at {u:.0f} min: the protocol is not "
                      "changed.",
                      "Die Übung legt die Aufnahmezeit auf {u:.0f} min fest: das Protokoll "
                      "bleibt unverändert."),
    "uptake_now": ("Fixation : {u}", "Uptake: {u}", "Aufnahmezeit: {u}"),
    "height": ("Taille (cm)", "Height (cm)", "Größe (cm)"),
    "bad_height": ("Taille « {v} » : entrez des centimètres entre 50 et 250 (ex. 172).",
                   "Height \"{v}\": enter centimetres between 50 and 250 (e.g. 172).",
                   "Größe „{v}“: Zentimeter zwischen 50 und 250 eingeben (z. B. 172)."),
    "bmi": ("IMC {bmi:.1f} kg/m² ({w:.0f} kg, {h:.0f} cm).",
            "BMI {bmi:.1f} kg/m² ({w:.0f} kg, {h:.0f} cm).",
            "BMI {bmi:.1f} kg/m² ({w:.0f} kg, {h:.0f} cm)."),
    "bmi_obese": ("IMC {bmi:.1f} kg/m² ≥ 30 : moins de coups par kg, image plus bruitée à "
                  "temps égal — allonger le temps par lit plutôt qu'augmenter l'activité.",
                  "BMI {bmi:.1f} kg/m² ≥ 30: fewer counts per kg, a noisier image for the same "
                  "time — lengthen the time per bed rather than raise the activity.",
                  "BMI {bmi:.1f} kg/m² ≥ 30: weniger Zählereignisse pro kg, verrauschteres "
                  "Bild bei gleicher Zeit — eher die Zeit pro Bett verlängern als die "
                  "Aktivität erhöhen."),
    "pregnancy": ("Grossesse", "Pregnancy", "Schwangerschaft"),
    "preg_": ("— non demandée —", "— not asked —", "— nicht erfragt —"),
    "preg_no": ("Non (exclue)", "No (excluded)", "Nein (ausgeschlossen)"),
    "preg_possible": ("Non exclue", "Not excluded", "Nicht ausgeschlossen"),
    "preg_yes": ("Oui", "Yes", "Ja"),
    "justified": ("Justification confirmée par le médecin",
                  "Justification confirmed by the physician",
                  "Rechtfertigung vom Arzt bestätigt"),
    "breastfeeding": ("Allaitement", "Breastfeeding", "Stillen"),
    "diabetes": ("Traitement du diabète", "Diabetes medication", "Diabetesmedikation"),
    "med_none": ("Aucun", "No medication", "Keine"),
    "med_metformin": ("Metformine", "Metformin", "Metformin"),
    "med_insulin_rapid": ("Insuline rapide (s.c.)", "Rapid-acting insulin (s.c.)",
                          "Schnell wirksames Insulin (s.c.)"),
    "med_insulin_short": ("Insuline ordinaire (s.c.)", "Short-acting insulin (s.c.)",
                          "Normalinsulin (s.c.)"),
    "med_insulin_long": ("Insuline intermédiaire ou lente aujourd'hui",
                         "Intermediate- or long-acting insulin today",
                         "Intermediär oder lang wirksames Insulin heute"),
    "med_insulin_pump": ("Pompe à insuline", "Insulin pump", "Insulinpumpe"),
    "insulin_at": ("Dernière insuline / arrêt pompe", "Last insulin / pump off",
                   "Letztes Insulin / Pumpe aus"),
    "preg_not_asked": ("Grossesse non renseignée : la demander à toute patiente en âge de "
                       "procréer avant l'injection (directive 2013/59/Euratom, art. 62).",
                       "Pregnancy not filled in: ask every woman of child-bearing age before "
                       "the injection (Directive 2013/59/Euratom, art. 62).",
                       "Schwangerschaft nicht eingetragen: jede Patientin im gebärfähigen Alter "
                       "vor der Injektion fragen (Richtlinie 2013/59/Euratom, Art. 62)."),
    "preg_yes_block": ("Grossesse : l'examen doit être justifié par le médecin nucléaire avant "
                       "l'injection (CIPR 84, EANM 2015), activité la plus basse possible. "
                       "Injection bloquée jusqu'à la confirmation.",
                       "Pregnancy: the exam must be justified by the nuclear-medicine "
                       "physician before the injection (ICRP 84, EANM 2015), lowest possible "
                       "activity. Injection blocked until it is confirmed.",
                       "Schwangerschaft: die Untersuchung muss vor der Injektion vom "
                       "Nuklearmediziner gerechtfertigt werden (ICRP 84, EANM 2015), niedrigst "
                       "mögliche Aktivität. Injektion gesperrt bis zur Bestätigung."),
    "preg_possible_block": ("Grossesse non exclue : interroger la patiente ou faire un test "
                            "(β-hCG) ; sinon le médecin doit justifier l'examen (CIPR 84, "
                            "EANM 2015). Injection bloquée jusqu'à la confirmation.",
                            "Pregnancy not excluded: ask the patient or test (β-hCG); "
                            "otherwise the physician must justify the exam (ICRP 84, EANM "
                            "2015). Injection blocked until it is confirmed.",
                            "Schwangerschaft nicht ausgeschlossen: Patientin befragen oder "
                            "testen (β-hCG); sonst muss der Arzt die Untersuchung "
                            "rechtfertigen (ICRP 84, EANM 2015). Injektion gesperrt bis zur "
                            "Bestätigung."),
    "preg_justified": ("Grossesse : examen justifié par le médecin — activité la plus basse "
                       "possible, hydratation et mictions fréquentes (dose à la vessie, "
                       "proche de l'utérus).",
                       "Pregnancy: exam justified by the physician — lowest possible activity, "
                       "hydration and frequent voiding (bladder dose, next to the uterus).",
                       "Schwangerschaft: Untersuchung vom Arzt gerechtfertigt — niedrigst "
                       "mögliche Aktivität, Flüssigkeit und häufiges Wasserlassen "
                       "(Blasendosis nahe dem Uterus)."),
    "breastfeeding_advice": ("Allaitement : pas d'interruption nécessaire pour le FDG (CIPR "
                             "106/128 : dose au nourrisson bien inférieure à 1 mSv). Par "
                             "précaution : tirer le lait avant l'injection, le faire donner "
                             "au biberon par un tiers pendant {pause} h, limiter le contact "
                             "rapproché pendant {contact} h.",
                             "Breastfeeding: no interruption needed for FDG (ICRP 106/128: "
                             "infant dose well below 1 mSv). As a precaution: pump milk "
                             "before the injection, have a third person bottle-feed it for "
                             "{pause} h, limit close contact for {contact} h.",
                             "Stillen: für FDG keine Unterbrechung nötig (ICRP 106/128: Dosis "
                             "des Säuglings weit unter 1 mSv). Vorsorglich: Milch vor der "
                             "Injektion abpumpen, {pause} h lang von einer dritten Person mit "
                             "der Flasche füttern lassen, engen Kontakt {contact} h lang "
                             "begrenzen."),
    "metformin": ("Metformine : captation intestinale (côlon) du FDG augmentée ; l'arrêter "
                  "48 h avant si l'abdomen est exploré (avis du médecin), sinon poursuivre "
                  "(EANM 2015).",
                  "Metformin: raised bowel (colon) FDG uptake; stop it 48 h before when the "
                  "abdomen is of interest (physician's advice), otherwise continue (EANM "
                  "2015).",
                  "Metformin: erhöhte FDG-Aufnahme im Darm (Kolon); 48 h vorher absetzen, "
                  "wenn das Abdomen untersucht wird (ärztlicher Rat), sonst weiter einnehmen "
                  "(EANM 2015)."),
    "insulin_long": ("Insuline intermédiaire ou lente le jour de l'examen : FDG non "
                     "recommandé (EANM 2015, captation musculaire) — dernière dose la veille "
                     "au soir, reprogrammer.",
                     "Intermediate- or long-acting insulin on the day of the exam: FDG not "
                     "recommended (EANM 2015, muscle uptake) — last dose the evening before, "
                     "reschedule.",
                     "Intermediär oder lang wirksames Insulin am Untersuchungstag: FDG nicht "
                     "empfohlen (EANM 2015, Muskelaufnahme) — letzte Dosis am Vorabend, "
                     "neu terminieren."),
    "insulin_time_needed": ("{med} : indiquez l'heure de la dernière insuline (ou de l'arrêt "
                            "de la pompe) ; le FDG vient au moins {h} h après (EANM 2015).",
                            "{med}: give the time of the last insulin (or of the pump "
                            "switched off); FDG comes at least {h} h after (EANM 2015).",
                            "{med}: Uhrzeit des letzten Insulins (oder des Abschaltens der "
                            "Pumpe) angeben; FDG frühestens {h} h danach (EANM 2015)."),
    "insulin_too_close": ("{med} à {at} : injection du FDG {gap} après, moins des {h} h "
                          "(EANM 2015) — l'insuline détourne le FDG vers les muscles et la "
                          "graisse, SUV tumoral abaissé. Injecter à partir de {earliest}.",
                          "{med} at {at}: FDG injection {gap} later, under the {h} h "
                          "(EANM 2015) — insulin drives FDG into muscle and fat, tumour SUV "
                          "lowered. Inject from {earliest}.",
                          "{med} um {at}: FDG-Injektion {gap} danach, weniger als {h} h "
                          "(EANM 2015) — Insulin lenkt FDG in Muskel und Fett, Tumor-SUV "
                          "erniedrigt. Ab {earliest} injizieren."),
    "insulin_ok": ("{med} à {at} : injection du FDG {gap} après (≥ {h} h, EANM 2015).",
                   "{med} at {at}: FDG injection {gap} later (≥ {h} h, EANM 2015).",
                   "{med} um {at}: FDG-Injektion {gap} danach (≥ {h} h, EANM 2015)."),
    "inject_refused": ("Injection refusée : {why}", "Injection refused: {why}",
                       "Injektion abgelehnt: {why}"),
}


class _Comma(float):
    """A number written with a decimal comma (French, German)."""

    def __format__(self, spec: str) -> str:
        return format(float(self), spec).replace(".", ",")


def prep_text(key: str, lang: str, **kw: Any) -> str:
    """A text of the preparation card in ``lang`` (numbers with a decimal comma in fr/de)."""
    if lang != "en":
        kw = {k: _Comma(v) if isinstance(v, float) else v for k, v in kw.items()}
    return text_of(_TEXT, key, lang, **kw)


class PrepInputError(ValueError):
    """A value the technologist typed that the card cannot use; ``message(lang)`` says why."""

    def __init__(self, key: str, **kw: Any) -> None:
        super().__init__(key)
        self.key, self.kw = key, kw

    def message(self, lang: str) -> str:
        return prep_text(self.key, lang, **self.kw)


def parse_number(text: Any) -> float:
    """A decimal number as typed in French or English: "5,4", "5.4", " 98 "; ValueError."""
    s = str(text).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    value = float(s)
    if not math.isfinite(value):
        raise ValueError("not finite")
    return value


def parse_glucose_mmol_l(text: Any, unit: str = "mmol/L") -> float:
    """Blood glucose in mmol/L from what was typed and the chosen unit.

    A unit written after the number ("98 mg/dL", "1,10 g/l") wins over ``unit``.

    Raises
    ------
    PrepInputError
        Not a number, or outside :data:`GLUCOSE_RANGE_MMOL_L` once converted.
    """
    raw = str(text).strip()
    low = raw.lower().replace(" ", "")
    for name in sorted(GLUCOSE_UNITS, key=len, reverse=True):
        if low.endswith(name.lower()):
            unit, raw = name, raw[: len(raw.rstrip()) - len(name)]
            raw = raw.strip()
            break
    if unit not in GLUCOSE_UNITS:
        raise PrepInputError("bad_glucose", v=str(text)[:40])
    try:
        value = parse_number(raw) * GLUCOSE_UNITS[unit]
    except ValueError:
        raise PrepInputError("bad_glucose", v=str(text)[:40]) from None
    lo, hi = GLUCOSE_RANGE_MMOL_L
    if not lo <= value <= hi:
        raise PrepInputError("bad_glucose", v=str(text)[:40])
    return value


def parse_fasting_h(text: Any) -> float:
    """Fasting hours (0–72); PrepInputError otherwise."""
    try:
        value = parse_number(text)
    except ValueError:
        raise PrepInputError("bad_fasting", v=str(text)[:40]) from None
    if not 0.0 <= value <= 72.0:
        raise PrepInputError("bad_fasting", v=str(text)[:40])
    return value


def parse_clock_min(text: Any, what: str = "") -> int:
    """Minutes after midnight of a clock time: "08:30", "8h30", "8h", "14.05".

    Raises
    ------
    PrepInputError
        Not a time of day.
    """
    s = str(text).strip().lower().replace(" ", "")
    for sep in (":", "h", "."):
        if sep in s:
            hh, _, mm = s.partition(sep)
            break
    else:
        hh, mm = s, ""
    try:
        if not hh.isdigit() or (mm and not mm.isdigit()) or len(mm) > 2:
            raise ValueError
        h, m = int(hh), int(mm or 0)
        if not (0 <= h <= 23 and 0 <= m <= 59):
            raise ValueError
    except ValueError:
        raise PrepInputError("bad_clock", what=what, v=str(text)[:40]) from None
    return 60 * h + m


def uptake_between(injection_min: int, scan_start_min: int, as_typed: tuple[str, str]) -> float:
    """Uptake (min) from injection to scan start, both minutes after midnight, same day.

    Raises
    ------
    PrepInputError
        The scan starts before the injection, or more than 5 h after it.
    """
    u = float(scan_start_min - injection_min)
    if u < 0:
        raise PrepInputError("negative_uptake", inj=as_typed[0], scan=as_typed[1])
    if u > 300:
        raise PrepInputError("uptake_too_long", u=u)
    return u


def parse_height_cm(text: Any) -> float:
    """Height in cm (:data:`HEIGHT_RANGE_CM`); PrepInputError otherwise."""
    try:
        value = parse_number(text)
    except ValueError:
        raise PrepInputError("bad_height", v=str(text)[:40]) from None
    lo, hi = HEIGHT_RANGE_CM
    if not lo <= value <= hi:
        raise PrepInputError("bad_height", v=str(text)[:40])
    return value


def body_mass_index(weight_kg: float, height_cm: float) -> float:
    """BMI = weight / height² (kg/m²)."""
    return weight_kg / (height_cm / 100.0) ** 2


def _clock(minutes: float) -> str:
    m = int(round(minutes)) % (24 * 60)
    return f"{m // 60:02d}:{m % 60:02d}"


def _gap(minutes: float) -> str:
    m = int(round(minutes))
    return f"{m // 60} h {m % 60:02d}"


@dataclass(frozen=True)
class Preparation:
    """What the card holds (None or "": not entered yet).

    ``pregnancy`` is one of :data:`PREGNANCY`; ``diabetes_med`` one of
    :data:`DIABETES_MEDS`; clock times are minutes after midnight.
    """

    fasting_h: float | None = None
    glucose_mmol_l: float | None = None
    uptake_min: float | None = None
    height_cm: float | None = None
    weight_kg: float | None = None
    pregnancy: str = ""
    justified: bool = False
    breastfeeding: bool = False
    diabetes_med: str = "none"
    insulin_at_min: int | None = None
    injection_min: int | None = None
    can_be_pregnant: bool = True

    def __post_init__(self) -> None:
        if self.pregnancy not in PREGNANCY:
            raise ValueError(f"pregnancy must be one of {PREGNANCY}")
        if self.diabetes_med not in DIABETES_MEDS:
            raise ValueError(f"diabetes_med must be one of {DIABETES_MEDS}")


@dataclass(frozen=True)
class Finding:
    """One guideline finding: ``level`` "out" (outside the guideline) or "caution"."""

    level: str
    key: str
    values: tuple[tuple[str, Any], ...] = ()

    def text(self, lang: str) -> str:
        kw = dict(self.values)
        if "med" in kw:  # a medication's name in the reader's language
            kw["med"] = prep_text(f"med_{kw['med']}", lang)
        return prep_text(self.key, lang, **kw)


def injection_blocked(prep: Preparation) -> bool:
    """A pregnancy declared or not excluded and no physician's justification yet."""
    return prep.can_be_pregnant and prep.pregnancy in ("yes", "possible") and not prep.justified


def _pregnancy_findings(prep: Preparation) -> list[Finding]:
    if not prep.can_be_pregnant:
        return []
    out = []
    if prep.pregnancy in ("yes", "possible"):
        if prep.justified:
            out.append(Finding("caution", "preg_justified"))
        else:
            out.append(Finding("out", f"preg_{prep.pregnancy}_block"))
    if prep.breastfeeding:
        out.append(Finding("caution", "breastfeeding_advice",
                           (("pause", BREASTFEEDING_PAUSE_H), ("contact", BREASTFEEDING_CONTACT_H))))
    return out


def _diabetes_findings(prep: Preparation) -> list[Finding]:
    med = prep.diabetes_med
    if med == "metformin":
        return [Finding("caution", "metformin")]
    if med == "insulin_long":
        return [Finding("out", "insulin_long")]
    if med not in INSULIN_MIN_INTERVAL_MIN:
        return []
    need = INSULIN_MIN_INTERVAL_MIN[med]
    if prep.insulin_at_min is None or prep.injection_min is None:
        return [Finding("caution", "insulin_time_needed", (("med", med), ("h", need // 60)))]
    gap = (prep.injection_min - prep.insulin_at_min) % (24 * 60)  # insulin the night before
    values = (("med", med), ("at", _clock(prep.insulin_at_min)), ("gap", _gap(gap)),
              ("h", need // 60))
    if gap < need:
        return [Finding("out", "insulin_too_close",
                        (*values, ("earliest", _clock(prep.insulin_at_min + need))))]
    return [Finding("caution", "insulin_ok", values)]


def check_preparation(prep: Preparation) -> list[Finding]:
    """The EANM 2015 findings of a preparation (empty: within the guideline)."""
    out: list[Finding] = _pregnancy_findings(prep)
    if prep.fasting_h is not None:
        if prep.fasting_h < FASTING_MIN_H:
            out.append(Finding("out", "fasting_out", (("h", prep.fasting_h),)))
        elif prep.fasting_h < FASTING_PREFERRED_H:
            out.append(Finding("caution", "fasting_short", (("h", prep.fasting_h),)))
    g = prep.glucose_mmol_l
    if g is not None:
        values = (("mmol", g), ("mgdl", g * MG_DL_PER_MMOL_L))
        if g >= GLUCOSE_RESCHEDULE_MMOL_L:
            out.append(Finding("out", "glucose_out", values))
        elif g >= GLUCOSE_QUANT_MMOL_L:
            out.append(Finding("caution", "glucose_high", values))
    out += _diabetes_findings(prep)
    u = prep.uptake_min
    lo, hi = EANM_UPTAKE_RANGE_MIN
    if u is not None and not lo <= u <= hi:
        out.append(Finding("out", "uptake_out", (("u", u),)))
    if prep.height_cm is not None and prep.weight_kg is not None:
        bmi = body_mass_index(prep.weight_kg, prep.height_cm)
        if bmi >= BMI_OBESE_KG_M2:
            out.append(Finding("caution", "bmi_obese", (("bmi", bmi),)))
    return out


def consequence_lines(uptake_min: float, lang: str, tracer: str = "F18-FDG") -> list[str]:
    """The physical consequence of an uptake time: decay left, expected tumour SUV change."""
    t12_min = TRACERS[tracer].half_life_s / 60.0
    left = 100.0 * math.exp(-math.log(2.0) * uptake_min / t12_min)
    lines = [prep_text("conseq_decay", lang, u=uptake_min, pct=left, t12=t12_min)]
    if tracer == "F18-FDG" and uptake_min > 0:
        change = 100.0 * (suv_ratio(uptake_min, EANM_UPTAKE_MIN) - 1.0)
        sign = "+" if change >= 0 else "−"
        lines.append(prep_text("conseq_kinetics", lang, sign=sign, pct=abs(change)))
    return lines


class PrepCard:
    """The preparation card (``.merm-prep``) of a PET console session.

    Parameters
    ----------
    session : ConsoleSession
        Its protocol's uptake follows the injection and scan times when both are given
        (unless an exercise locks it).
    labels : Labels
    on_findings : callable, optional
        Called with the list of :class:`Finding` after each check.
    """

    def __init__(
        self,
        session: Any,
        labels: Labels,
        on_findings: Callable[[list[Finding]], None] | None = None,
    ) -> None:
        self.session, self.L, self.on_findings = session, labels, on_findings
        style = {"description_width": "150px"}

        def box() -> W.Layout:  # one layout each: hiding one field must not hide the others
            return W.Layout(width="280px")

        self.title = W.HTML()
        self.fasting = W.Text(continuous_update=False, layout=box(), style=style)
        self.glucose = W.Text(continuous_update=False, layout=box(), style=style)
        self.unit = W.Dropdown(options=list(GLUCOSE_UNITS), value="mmol/L",
                               layout=W.Layout(width="180px"), style={"description_width": "60px"})
        self.injection = W.Text(continuous_update=False, layout=box(), style=style)
        self.scan_start = W.Text(continuous_update=False, layout=box(), style=style)
        self.height = W.Text(continuous_update=False, layout=box(), style=style)
        self.pregnancy = W.Dropdown(options=[("", "")], value="", layout=box(), style=style)
        self.justified = W.Checkbox(value=False, indent=False, layout=W.Layout(width="280px"))
        self.breastfeeding = W.Checkbox(value=False, indent=False, layout=W.Layout(width="280px"))
        self.diabetes = W.Dropdown(options=[("", "none")], value="none", layout=box(), style=style)
        self.insulin_at = W.Text(continuous_update=False, layout=box(), style=style)
        self.check_button = W.Button(icon="check", layout=W.Layout(width="auto"))
        for w, cls in (
            (self.fasting, "merm-prep-fasting"),
            (self.glucose, "merm-prep-glucose"),
            (self.unit, "merm-prep-glucose-unit"),
            (self.injection, "merm-prep-injection"),
            (self.scan_start, "merm-prep-scan-start"),
            (self.height, "merm-prep-height"),
            (self.pregnancy, "merm-prep-pregnancy"),
            (self.justified, "merm-prep-justified"),
            (self.breastfeeding, "merm-prep-breastfeeding"),
            (self.diabetes, "merm-prep-diabetes"),
            (self.insulin_at, "merm-prep-insulin-at"),
            (self.check_button, "merm-prep-check"),
        ):
            w.add_class(cls)
        self.errors = W.HTML()
        self.errors.add_class("merm-prep-errors")
        self.status = W.HTML()
        self.status.add_class("merm-prep-status")
        self.consequence = W.HTML()
        self.consequence.add_class("merm-prep-consequence")
        self.prep = Preparation()
        self.findings: list[Finding] = []
        self._errors: list[PrepInputError] = []
        self._note = ""
        self._relabelling = False
        self._patient_key = getattr(session.patient, "key", None)
        for w in (self.fasting, self.glucose, self.unit, self.injection, self.scan_start,
                  self.height, self.pregnancy, self.justified, self.breastfeeding,
                  self.diabetes, self.insulin_at):
            w.observe(lambda _ch: None if self._relabelling else self.check(), "value")
        self.woman_box = W.VBox([self.pregnancy, self.justified, self.breastfeeding])
        self.check_button.on_click(lambda _b: self.check())
        self.widget = W.VBox(
            [
                self.title,
                W.HBox([W.VBox([self.fasting, self.glucose]),
                        W.VBox([self.injection, self.scan_start])]),
                W.HBox([self.unit, self.check_button]),
                W.HBox([W.VBox([self.height, self.diabetes, self.insulin_at]), self.woman_box]),
                self.errors,
                self.status,
                self.consequence,
            ]
        )
        self.widget.add_class("merm-prep")
        labels.on_switch(lambda lang: self.relabel())
        session.on_change(self._on_session)
        self.relabel()

    # ------------------------------------------------------------------ texts
    def relabel(self) -> None:
        lang = self.L.lang
        self.title.value = f"<b>{html.escape(prep_text('title', lang))}</b>"
        self.fasting.description = prep_text("fasting", lang)
        self.glucose.description = prep_text("glucose", lang)
        self.unit.description = prep_text("unit", lang)
        self.injection.description = prep_text("injection", lang)
        self.scan_start.description = prep_text("scan_start", lang)
        for w in (self.injection, self.scan_start):
            w.placeholder = prep_text("clock_hint", lang)
        self.fasting.placeholder = "6"
        self.glucose.placeholder = "5,4" if lang in ("fr", "de") else "5.4"
        self.check_button.description = prep_text("check", lang)
        self.height.description = prep_text("height", lang)
        self.height.placeholder = "170"
        self.pregnancy.description = prep_text("pregnancy", lang)
        self.justified.description = prep_text("justified", lang)
        self.breastfeeding.description = prep_text("breastfeeding", lang)
        self.diabetes.description = prep_text("diabetes", lang)
        self.insulin_at.description = prep_text("insulin_at", lang)
        self.insulin_at.placeholder = prep_text("clock_hint", lang)
        self._relabelling = True  # new option labels, same values: no re-check
        try:
            for dd, prefix, values in ((self.pregnancy, "preg_", PREGNANCY),
                                       (self.diabetes, "med_", DIABETES_MEDS)):
                keep = dd.value
                dd.options = [(prep_text(prefix + v, lang), v) for v in values]
                dd.value = keep
        finally:
            self._relabelling = False
        self.show_fields()
        self.render()

    def _on_session(self, event: dict) -> None:
        """A new patient (man or woman) or weight: the questions and the BMI follow."""
        kind = event.get("type")
        if kind == "patient":
            key = getattr(self.session.patient, "key", None)
            if key != self._patient_key:  # another patient: another preparation
                self._patient_key = key
                self.clear()
            self.check()
        elif kind == "param" and event.get("name") == "weight_kg":
            self.check()

    def clear(self) -> None:
        """Empty every field (a new patient's preparation)."""
        self._relabelling = True
        try:
            for w in (self.fasting, self.glucose, self.injection, self.scan_start, self.height,
                      self.insulin_at):
                w.value = ""
            self.pregnancy.value, self.diabetes.value = "", "none"
            self.justified.value = self.breastfeeding.value = False
        finally:
            self._relabelling = False

    def can_be_pregnant(self) -> bool:
        """Pregnancy and breastfeeding are asked of every patient but a man."""
        patient = self.session.patient
        return patient is None or getattr(patient, "sex", "F") != "M"

    def show_fields(self) -> None:
        """Show only the questions that apply: the woman's questions, the justification when a
        pregnancy is possible, the insulin time for an insulin that has one."""
        self.woman_box.layout.display = None if self.can_be_pregnant() else "none"
        self.justified.layout.display = (
            None if self.pregnancy.value in ("yes", "possible") else "none"
        )
        self.insulin_at.layout.display = (
            None if self.diabetes.value in INSULIN_MIN_INTERVAL_MIN else "none"
        )

    def injection_refusal(self, lang: str) -> str | None:
        """Why the injection must wait (a pregnancy without the physician's justification),
        or None."""
        self.check()
        if not injection_blocked(self.prep):
            return None
        why = next(f.text(lang) for f in self.findings if f.key.endswith("_block"))
        return prep_text("inject_refused", lang, why=why)

    def render(self) -> None:
        """Redraw the errors, findings and consequences in the current language."""
        lang = self.L.lang
        self.errors.value = "".join(
            f"<div class='merm-err'>⚠ {html.escape(e.message(lang), quote=False)}</div>"
            for e in self._errors
        )
        p = self.prep
        if self.findings:
            items = "".join(
                f"<li class='merm-prep-{f.level}'>{html.escape(f.text(lang))}</li>"
                for f in self.findings
            )
            self.status.value = f"<ul class='merm-prep-warnings'>{items}</ul>"
        elif None in (p.fasting_h, p.glucose_mmol_l, p.uptake_min) or (
            p.can_be_pregnant and not p.pregnancy
        ):
            missing = [prep_text("incomplete", lang)] if None in (
                p.fasting_h, p.glucose_mmol_l, p.uptake_min) else []
            if p.can_be_pregnant and not p.pregnancy:
                missing.append(prep_text("preg_not_asked", lang))
            self.status.value = f"<i>{html.escape(' '.join(missing))}</i>"
        else:
            self.status.value = (
                f"<span class='merm-prep-ok'>✓ {html.escape(prep_text('all_ok', lang))}</span>"
            )
        u = p.uptake_min if p.uptake_min is not None else float(self.session.protocol.uptake_min)
        tracer = getattr(self.session.protocol, "tracer", "F18-FDG")
        lines = [prep_text("uptake_now", lang, u=format_mmss(60.0 * u))]
        lines += consequence_lines(u, lang, tracer if tracer in TRACERS else "F18-FDG")
        if p.height_cm is not None and p.weight_kg is not None:
            lines.append(prep_text("bmi", lang, bmi=body_mass_index(p.weight_kg, p.height_cm),
                                   w=p.weight_kg, h=p.height_cm))
        if self._note:
            lines.append(self._note_text(lang))
        self.consequence.value = "<br>".join(html.escape(x) for x in lines)

    def _note_text(self, lang: str) -> str:
        key, u = self._note.split("|")
        return prep_text(key, lang, u=float(u))

    # ------------------------------------------------------------------ the check
    def fill_injection_time(self, hhmm: str) -> None:
        """The console recorded the injection at ``hhmm``: the card takes it if empty."""
        if not self.injection.value.strip():
            self.injection.value = hhmm

    def check(self) -> list[Finding]:
        """Read the fields, check them against EANM 2015, set the protocol's uptake."""
        lang = self.L.lang
        errors: list[PrepInputError] = []
        fasting = glucose = uptake = None
        if self.fasting.value.strip():
            try:
                fasting = parse_fasting_h(self.fasting.value)
            except PrepInputError as exc:
                errors.append(exc)
        if self.glucose.value.strip():
            try:
                glucose = parse_glucose_mmol_l(self.glucose.value, self.unit.value)
            except PrepInputError as exc:
                errors.append(exc)
        height = None
        if self.height.value.strip():
            try:
                height = parse_height_cm(self.height.value)
            except PrepInputError as exc:
                errors.append(exc)
        times = []
        for w, key in ((self.injection, "injection"), (self.scan_start, "scan_start")):
            if w.value.strip():
                try:
                    times.append(parse_clock_min(w.value, prep_text(key, lang)))
                except PrepInputError as exc:
                    errors.append(exc)
        clocks: dict[str, int | None] = {"injection": None, "insulin_at": None}
        for w, key in ((self.injection, "injection"), (self.insulin_at, "insulin_at")):
            if w.value.strip() and (key == "injection" or self.diabetes.value
                                    in INSULIN_MIN_INTERVAL_MIN):
                try:
                    clocks[key] = parse_clock_min(w.value, prep_text(key, lang))
                except PrepInputError as exc:
                    if key == "insulin_at":  # the injection's error is already listed
                        errors.append(exc)
        self._note = ""
        if len(times) == 2:
            try:
                uptake = uptake_between(
                    times[0], times[1], (self.injection.value.strip(), self.scan_start.value.strip())
                )
            except PrepInputError as exc:
                errors.append(exc)
        if uptake is not None:
            self._apply_uptake(uptake)
        self._errors = errors
        self.show_fields()
        woman = self.can_be_pregnant()
        self.prep = Preparation(
            fasting, glucose, uptake,
            height_cm=height,
            weight_kg=float(getattr(self.session.protocol, "weight_kg", 0.0)) or None,
            pregnancy=self.pregnancy.value if woman else "",
            justified=bool(self.justified.value) and woman,
            breastfeeding=bool(self.breastfeeding.value) and woman,
            diabetes_med=self.diabetes.value,
            insulin_at_min=clocks["insulin_at"],
            injection_min=clocks["injection"],
            can_be_pregnant=woman,
        )
        self.findings = check_preparation(self.prep)
        self.render()
        if self.on_findings is not None:
            self.on_findings(self.findings)
        return self.findings

    def _apply_uptake(self, uptake: float) -> None:
        s = self.session
        if abs(float(s.protocol.uptake_min) - uptake) < 1e-9:
            return
        if s.is_locked("uptake_min"):
            self._note = f"uptake_locked|{float(s.protocol.uptake_min)}"
            return
        result = s.apply_command({"type": "set_param", "name": "uptake_min", "value": uptake})
        if result.get("ok"):
            self._note = f"applied|{uptake}"
