"""French, English and German strings of the consoles, the language choice, live relabelling.

The language comes, in order, from the ``lang`` argument, the Voilà URL (``?lang=fr``),
``MERM_LANG``, the browser (``HTTP_ACCEPT_LANGUAGE`` when Voilà forwards the header), then
``LANG``; English when none says French or German. German texts are in :mod:`.i18n_de`. Widgets register the string key of each label
with a :class:`Labels` registry so that the whole console switches language in place.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

__all__ = ["STRINGS", "LANGS", "detect_lang", "tr", "pick", "text_of", "decimal", "Labels",
           "query_params"]

LANGS = ("fr", "en", "de")

#: key -> (fr, en); German in :data:`simulator.console.i18n_de.DE`
STRINGS: Mapping[str, tuple[str, str]] = {
    # titles and groups
    "mr_title": ("Console IRM", "MR console"),
    "pet_title": ("Console TEP", "PET console"),
    "grp_routine": ("Routine", "Routine"),
    "grp_contrast": ("Contraste", "Contrast"),
    "grp_resolution": ("Résolution", "Resolution"),
    "grp_geometry": ("Géométrie", "Geometry"),
    "grp_acceleration": ("Accélération", "Acceleration"),
    "tab_patient": ("Patient", "Patient"),
    "tab_planning": ("Planification", "Planning"),
    "tab_params": ("Paramètres", "Parameters"),
    "tab_queue": ("File d'examen", "Protocol queue"),
    "tab_exercise": ("Exercice", "Exercise"),
    "tab_mentor": ("Mentor", "Mentor"),
    "tab_viewer": ("Visualisation", "Viewer"),
    "tab_injection": ("Injection", "Injection"),
    "tab_recon": ("Reconstruction", "Reconstruction"),
    "tab_nema": ("Fantôme NEMA", "NEMA phantom"),
    # MR parameters
    "sequence": ("Séquence", "Sequence"),
    "field_t": ("Champ (T)", "Field (T)"),
    "tr_ms": ("TR (ms)", "TR (ms)"),
    "te_ms": ("TE (ms)", "TE (ms)"),
    "ti_ms": ("TI (ms)", "TI (ms)"),
    "flip_deg": ("Angle (°)", "Flip (°)"),
    "etl": ("Facteur turbo", "Turbo factor"),
    "fov_mm": ("FOV (mm)", "FOV (mm)"),
    "phase_fov_pct": ("FOV phase (%)", "Phase FOV (%)"),
    "matrix_read": ("Matrice lecture", "Read matrix"),
    "matrix_phase": ("Matrice phase", "Phase matrix"),
    "slice_mm": ("Épaisseur (mm)", "Thickness (mm)"),
    "gap_mm": ("Espace (mm)", "Gap (mm)"),
    "slices": ("Coupes", "Slices"),
    "nex": ("NEX", "NEX"),
    "bandwidth_hz_px": ("Bande pass. (Hz/px)", "Bandwidth (Hz/px)"),
    "phase_dir": ("Direction phase", "Phase direction"),
    "parallel_r": ("Facteur parallèle R", "Parallel factor R"),
    "partial_fourier": ("Fourier partiel", "Partial Fourier"),
    "fat_sat": ("Saturation de graisse", "Fat saturation"),
    "orientation": ("Orientation", "Orientation"),
    "ai_denoise": ("Débruitage IA", "AI denoising"),
    "ai_strength": ("Force de l'IA", "AI strength"),
    "ai_strength_off_tip": (
        "Activez le débruitage IA pour régler sa force",
        "Turn AI denoising on to set its strength",
    ),
    # consequences
    "scan_time": ("Durée", "Scan time"),
    "snr_rel": ("RSB relatif", "Relative SNR"),
    "sar": ("DAS", "SAR"),
    "sar_limit": ("limite mode normal", "normal-mode limit"),
    "fat_shift": ("Déplacement graisse", "Fat shift"),
    "voxel": ("Voxel", "Voxel"),
    "px": ("px", "px"),
    # scan
    "scan": ("Acquérir", "Scan"),
    "stop": ("Arrêter", "Stop"),
    "clock": ("Horloge", "Clock"),
    "clock_real": ("temps réel", "real time"),
    "clock_fast": ("accélérée", "accelerated"),
    "scanning": ("Acquisition en cours… {pct} %", "Scanning… {pct} %"),
    "scan_done": ("Série {name} acquise ({time}).", "Series {name} acquired ({time})."),
    "scan_stopped": ("Acquisition arrêtée.", "Scan stopped."),
    "scan_busy": ("Une acquisition est déjà en cours.", "A scan is already running."),
    "scan_blocked": (
        "Acquisition bloquée : le questionnaire de sécurité IRM n'est pas validé.",
        "Scan blocked: the MR safety screening is not validated.",
    ),
    "scan_contra": (
        "Acquisition bloquée : contre-indication à l'IRM ({what}).",
        "Scan blocked: MR contraindication ({what}).",
    ),
    "scan_failed": ("Acquisition impossible : {msg}", "Scan failed: {msg}"),
    "changed_by": ("{param} changé par {role} {actor}", "{param} changed by {role} {actor}"),
    "role_mentor": ("le mentor", "mentor"),
    "role_trainee": ("l'élève", "trainee"),
    "role_instructor": ("le formateur", "instructor"),
    "role_observer": ("l'observateur", "observer"),
    "cmd_scan_by": ("Acquisition lancée par {role} {actor}", "Scan started by {role} {actor}"),
    "not_allowed": (
        "Action non permise pour le rôle {role}.",
        "Action not allowed for role {role}.",
    ),
    "unknown_cmd": ("Commande inconnue : {cmd}", "Unknown command: {cmd}"),
    "unknown_param": ("Paramètre inconnu : {name}", "Unknown parameter: {name}"),
    "param_locked": (
        "{param} est verrouillé dans cet exercice (modifiables : {allowed}).",
        "{param} is locked in this exercise (you may change: {allowed}).",
    ),
    "param_locked_tip": (
        "Verrouillé par l'exercice",
        "Locked by the exercise",
    ),
    "locked_note": (
        "Exercice : seuls ces paramètres sont modifiables — {allowed}.",
        "Exercise: only these parameters may be changed — {allowed}.",
    ),
    "param_ok": ("{param} = {value}", "{param} = {value}"),
    "warning": ("Attention : {msg}", "Warning: {msg}"),
    # viewer
    "slice": ("Coupe", "Slice"),
    "window": ("Largeur (W)", "Width (W)"),
    "level": ("Niveau (L)", "Level (L)"),
    "preset": ("Préréglage", "Preset"),
    "zoom": ("Zoom", "Zoom"),
    "compare": ("Comparer", "Compare"),
    "no_matching_slice": ("pas de coupe correspondante", "no matching slice"),
    "diff_grid": ("grilles différentes ({a} ≠ {b})", "different grids ({a} ≠ {b})"),
    "series_a": ("Série A", "Series A"),
    "series_b": ("Série B", "Series B"),
    "view_single": ("Simple", "Single"),
    "view_side": ("Côte à côte", "Side by side"),
    "view_diff": ("Différence", "Difference"),
    "view_mip": ("MIP", "MIP"),
    "view_ai": ("Apport de l'IA", "What the AI changed"),
    "view_ai_tip": (
        "Sortie de l'IA moins son entrée, pour la série affichée",
        "AI output minus its input, for the series shown",
    ),
    "view_ai_unavailable": (
        "« Apport de l'IA » : la série « {name} » n'a pas été débruitée par l'IA. Cochez "
        "« Débruitage IA », acquérez, puis affichez cette série.",
        "'What the AI changed': series '{name}' was not denoised by AI. Tick 'AI denoising', "
        "scan, then show that series.",
    ),
    "view_ai_no_series": (
        "« Apport de l'IA » : aucune série acquise. Cochez « Débruitage IA » et acquérez d'abord.",
        "'What the AI changed': no series yet. Tick 'AI denoising' and scan first.",
    ),
    "ai_explain": (
        "Apport de l'IA : sortie du réseau moins son entrée (bleu : signal retiré, rouge : "
        "signal ajouté). Vous voyez ce que le réseau a enlevé : surtout du bruit, sans "
        "structure. Une forme anatomique ici (petite lésion, bord, contour) est du signal que "
        "l'IA a effacé ou lissé : comparez avec la série sans IA avant de conclure.",
        "What the AI changed: the network's output minus its input (blue: signal removed, "
        "red: signal added). You see what the network took away: mostly noise, without "
        "structure. An anatomical shape here (small lesion, edge, outline) is signal the AI "
        "erased or smoothed: compare with the series without AI before concluding.",
    ),
    "ai_frame_title": ("IA − entrée (±{span})", "AI − input (±{span})"),
    "ai_frame_legend": (
        "bleu : retiré par l'IA · rouge : ajouté",
        "blue: removed by the AI · red: added",
    ),
    "ai_time_saved": (
        "{saved} gagnées sur le protocole standard ({ref} → {cur}, −{pct} %)",
        "{saved} saved vs the standard protocol ({ref} → {cur}, −{pct} %)",
    ),
    "ai_time_not_saved": (
        "pas de temps gagné sur le protocole standard ({ref} → {cur})",
        "no time saved vs the standard protocol ({ref} → {cur})",
    ),
    "ai_dose_saved": (
        "activité {ref} → {cur} MBq : {mbq} MBq et {msv} mSv épargnés (−{pct} %)",
        "activity {ref} → {cur} MBq: {mbq} MBq and {msv} mSv spared (−{pct} %)",
    ),
    "ai_dose_not_saved": (
        "activité {ref} → {cur} MBq : pas de dose épargnée",
        "activity {ref} → {cur} MBq: no dose spared",
    ),
    "ai_saving_caveat": (
        "Gain mesuré par rapport au protocole standard de l'examen, pas une garantie de "
        "qualité égale : l'évaluation de l'IA (leçon « Débruitage par IA », "
        "simulator/ai/weights/evaluation.md) montre ce qu'il en coûte, petites lésions comprises.",
        "Saving relative to the exam's standard protocol, not a promise of equal quality: the "
        "AI evaluation (lesson 'AI denoising', simulator/ai/weights/evaluation.md) shows what "
        "it costs, small lesions included.",
    ),
    "ai_eval_figures": (
        "Évaluation sur cas réservés ({what}), force {strength} : SSIM {ssim} (sans IA {ssim0}), "
        "NRMSE {nrmse} (sans IA {nrmse0}), contraste gardé de la lésion la plus touchée {kept} "
        "(sans IA {kept0})",
        "Held-out evaluation ({what}), strength {strength}: SSIM {ssim} ({ssim0} without AI), "
        "NRMSE {nrmse} ({nrmse0} without AI), contrast kept in the worst-hit small lesion {kept} "
        "({kept0} without AI)",
    ),
    "ai_eval_sphere": (
        "sphère de 10 mm (4:1) : SUVmax {bias} % vs vérité, CRC {crc} (sans IA {bias0} %, {crc0})",
        "10 mm sphere (4:1): SUVmax {bias} % vs truth, CRC {crc} ({bias0} %, {crc0} without AI)",
    ),
    "ai_eval_nearest": (
        "force évaluée la plus proche de la vôtre ({yours})",
        "nearest evaluated strength to yours ({yours})",
    ),
    "ai_eval_mr": ("rachis T2 en {cur} au lieu de {full}", "spine T2 in {cur} instead of {full}"),
    "ai_eval_pet": ("TEP en {cur} au lieu de {full}", "PET in {cur} instead of {full}"),
    "metrics": ("Mesures", "Metrics"),
    "download": ("Télécharger DICOM (zip)", "Download DICOM (zip)"),
    "download_ready": ("Archive DICOM prête : ", "DICOM archive ready: "),
    "no_series": ("Aucune série acquise.", "No series acquired yet."),
    "wl_auto": ("Auto", "Auto"),
    "wl_brain": ("Cerveau", "Brain"),
    "wl_soft": ("Tissus mous", "Soft tissue"),
    "wl_wide": ("Large", "Wide"),
    "drag_hint": (
        "Glisser sur l'image : fenêtre/niveau · molette : coupes",
        "Drag on the image: window/level · wheel: slices",
    ),
    # accessible names (WCAG 2.2 AA): the image, the localizers, the safety answers
    "image_name": (
        "Image de la série affichée. Clavier : Page suiv./préc. coupe suivante/précédente ; "
        "Maj+→/← fenêtre plus large/étroite ; Maj+↑/↓ niveau plus haut/bas",
        "Image of the series shown. Keys: Page Down/Up next/previous slice; "
        "Shift+→/← wider/narrower window; Shift+↑/↓ higher/lower level",
    ),
    "localizer_name": (
        "Localisateur {plane} : cliquer pour placer le centre de la pile",
        "{plane} localizer: click to place the centre of the stack",
    ),
    "safety_answer": ("{question} — {answer}", "{question} — {answer}"),
    "answer_unknown": ("Ne sait pas", "Not known"),
    # planning
    "localizer": ("Localisateur 3 plans", "3-plane localizer"),
    "center_x": ("Centre G-D (mm)", "Centre R-L (mm)"),
    "center_y": ("Centre A-P (mm)", "Centre A-P (mm)"),
    "center_z": ("Centre pieds-tête (mm)", "Centre F-H (mm)"),
    "angle": ("Angle (°)", "Angle (°)"),
    "plan_hint": (
        "Clic sur une vue : centrer la pile de coupes · molette : l'incliner (Maj : 5°).",
        "Click a view: centre the slice stack · wheel: angle it (Shift: 5°).",
    ),
    "wrap_warn": (
        "Repliement attendu : FOV phase {fov:.0f} mm < corps {body:.0f} mm",
        "Wrap-around expected: phase FOV {fov:.0f} mm < body {body:.0f} mm",
    ),
    "no_wrap": ("Pas de repliement attendu.", "No wrap-around expected."),
    "axial": ("axial", "axial"),
    "coronal": ("coronal", "coronal"),
    "sagittal": ("sagittal", "sagittal"),
    # patient and safety
    "scenario": ("Scénario", "Scenario"),
    "name": ("Nom", "Name"),
    "age": ("Âge", "Age"),
    "weight": ("Poids", "Weight"),
    "indication": ("Indication", "Indication"),
    "state": ("État", "State"),
    "implants": ("Implants", "Implants"),
    "none": ("aucun", "none"),
    "years": ("ans", "years"),
    "anatomy": ("Région", "Anatomy"),
    "brain": ("cerveau", "brain"),
    "knee": ("genou", "knee"),
    "spine": ("rachis lombaire", "lumbar spine"),
    "pathology": ("Pathologie", "Pathology"),
    "coil": ("Antenne", "Coil"),
    "safety": ("Questionnaire de sécurité IRM", "MR safety screening"),
    "safety_validate": ("Valider le questionnaire", "Validate screening"),
    "safety_ok": (
        "Questionnaire validé : pas de contre-indication.",
        "Screening validated: no contraindication.",
    ),
    "safety_conditional": (
        "Questionnaire validé : implant IRM-compatible sous conditions ({what}) — respecter le DAS.",
        "Screening validated: MR-conditional implant ({what}) — respect SAR limits.",
    ),
    "safety_block": (
        "CONTRE-INDICATION : {what}. Pas d'IRM ; prévenir le radiologue.",
        "CONTRAINDICATION: {what}. No MR scan; inform the radiologist.",
    ),
    "safety_incomplete": (
        "Répondez à toutes les questions avant de valider.",
        "Answer every question before validating.",
    ),
    "safety_mismatch": (
        "Vos réponses ne concordent pas avec le dossier du patient : revoyez « {q} ».",
        "Your answers do not match the patient's record: check “{q}”.",
    ),
    "yes": ("Oui", "Yes"),
    "no": ("Non", "No"),
    "q_pacemaker": ("Stimulateur cardiaque ou défibrillateur ?", "Pacemaker or defibrillator?"),
    "q_neurostim": ("Neurostimulateur, pompe implantée ?", "Neurostimulator or implanted pump?"),
    "q_cochlear": ("Implant cochléaire ?", "Cochlear implant?"),
    "q_metal_eye": ("Éclat métallique (yeux, soudure) ?", "Metal fragment (eyes, welding)?"),
    "q_clips": ("Clip d'anévrisme, valve, prothèse ?", "Aneurysm clip, valve or prosthesis?"),
    "q_pregnant": ("Grossesse possible ?", "Possible pregnancy?"),
    "motion_level": ("Mouvement attendu : {level}", "Expected motion: {level}"),
    "motion_none": ("aucun", "none"),
    "motion_low": ("faible", "low"),
    "motion_moderate": ("modéré", "moderate"),
    "motion_severe": ("important", "severe"),
    "calm": ("calme", "calm"),
    "anxious": ("anxieux·se", "anxious"),
    "claustrophobic": ("claustrophobe", "claustrophobic"),
    "in_pain": ("douloureux·se", "in pain"),
    "agitated": ("agité·e", "agitated"),
    # queue
    "queue_add": ("Ajouter", "Add"),
    "queue_dup": ("Dupliquer", "Duplicate"),
    "queue_up": ("Monter", "Up"),
    "queue_down": ("Descendre", "Down"),
    "queue_del": ("Retirer", "Remove"),
    "queue_load": ("Charger", "Load"),
    "queue_run": ("Lancer", "Run"),
    "queue_run_all": ("Tout lancer", "Run all"),
    "preset_name": ("Protocole", "Protocol"),
    # PET
    "phantom": ("Fantôme / patient", "Phantom / patient"),
    "ratio": ("Rapport sphères:fond", "Sphere:background ratio"),
    "activity_mbq": ("Activité (MBq)", "Activity (MBq)"),
    "weight_kg": ("Poids (kg)", "Weight (kg)"),
    "uptake_min": ("Fixation (min)", "Uptake (min)"),
    "minutes_per_bed": ("Minutes par pas", "Minutes per bed"),
    "beds": ("Pas de lit", "Bed positions"),
    "recon": ("Reconstruction", "Reconstruction"),
    "iterations": ("Itérations", "Iterations"),
    "subsets": ("Sous-ensembles", "Subsets"),
    "filter_mm": ("Filtre (mm)", "Filter (mm)"),
    "tof": ("Temps de vol", "Time of flight"),
    "eanm": ("Activité EANM", "EANM activity"),
    "eanm_hint": (
        "EANM : ≈ 7 MBq·min/kg ÷ min par pas = {a:.0f} MBq",
        "EANM: ≈ 7 MBq·min/kg ÷ min per bed = {a:.0f} MBq",
    ),
    "inject": ("Injecter", "Inject"),
    "injected": ("Injecté à {t}", "Injected at {t}"),
    "uptake_timer": ("Fixation : {elapsed} / {target}", "Uptake: {elapsed} / {target}"),
    "not_injected": ("Pas encore injecté.", "Not injected yet."),
    "preview": ("Aperçu (coupe centrale)", "Preview (middle slice)"),
    "iteration": ("Itération {it}", "Iteration {it}"),
    "suv_probe": ("Sonde SUV", "SUV probe"),
    "suv_at": (
        "SUV en ({x}, {y}) : {suv:.2f}  ({bq:.0f} Bq/mL)",
        "SUV at ({x}, {y}): {suv:.2f}  ({bq:.0f} Bq/mL)",
    ),
    "nema_table": ("Tableau NEMA CRC / VF", "NEMA CRC / BV table"),
    "sphere_mm": ("Sphère (mm)", "Sphere (mm)"),
    "sphere_hot": ("chaude", "hot"),
    "sphere_cold": ("froide", "cold"),
    "crc": ("CRC (%)", "CRC (%)"),
    "bv": ("VF (%)", "BV (%)"),
    "counts": ("Coups", "Counts"),
    "grp_acquisition": ("Acquisition", "Acquisition"),
    "tracer": ("Traceur", "Tracer"),
    "tof_ps": ("TOF (ps, 0 = non)", "TOF (ps, 0 = off)"),
    "attenuation_correction": ("Corr. atténuation", "Attenuation corr."),
    "scatter_correction": ("Correction de diffusé", "Scatter correction"),
    "postfilter_mm": ("Post-filtre (mm)", "Post-filter (mm)"),
    "matrix": ("Matrice", "Matrix"),
    "phase_oversampling_pct": ("Suréch. phase (%)", "Phase oversampl. (%)"),
    "psf_modelling": ("Modélisation de la PSF", "PSF modelling"),
    "bed_overlap_pct": ("Recouvrement des pas (%)", "Bed overlap (%)"),
    "range_top_mm": ("Début de la zone (mm)", "Range start (mm)"),
    "count_losses": ("Pertes de comptage (temps mort)", "Count losses (dead time)"),
    "tof_bins": ("Classes TOF (0 = gain seul)", "TOF bins (0 = gain only)"),
    "refocus_deg": ("Refocalisation (°)", "Refocusing (°)"),
    "concatenations": ("Concaténations", "Concatenations"),
    "coils": ("Canaux d'antenne", "Coil channels"),
    "fbp_window": ("Fenêtre RPF", "FBP window"),
    "activity_at_scan": ("Activité au début", "Activity at scan start"),
    "effective_dose": ("Dose efficace", "Effective dose"),
    "expected_nec": ("Coups NEC attendus", "Expected NEC counts"),
    "use_eanm": ("Appliquer l'activité EANM", "Use the EANM activity"),
    "uptake_done": (
        "Fixation terminée : le patient peut être installé.",
        "Uptake complete: the patient can be positioned.",
    ),
    "uptake_early": (
        "Attention : fixation incomplète ({elapsed} sur {target}).",
        "Warning: uptake incomplete ({elapsed} of {target}).",
    ),
    "probe": ("Mesurer", "Probe"),
    "probe_x": ("Colonne x", "Column x"),
    "probe_y": ("Ligne y", "Row y"),
    "probe_hint": (
        "Cliquer sur l'image (ou saisir x, y) pour mesurer la SUV.",
        "Click the image (or type x, y) to measure the SUV.",
    ),
    "nema_none": (
        "Acquérir le fantôme NEMA IEC pour obtenir le tableau CRC / VF.",
        "Scan the NEMA IEC phantom to get the CRC / BV table.",
    ),
    "lung_residual": ("Résidu poumon", "Lung residual"),
    "control_by": ("Contrôle : {who}", "Control: {who}"),
    # integration
    "missing_piece": ("{what} indisponible : {why}", "{what} unavailable: {why}"),
    "mentor_panel": ("Appel mentor", "Mentor call"),
    "exercise_panel": ("Panneau d'exercice", "Exercise panel"),
    "exercise": ("Exercice", "Exercise"),
    "unknown_exercise": (
        "Exercice « {id} » introuvable dans le cours : choisissez un exercice dans la liste.",
        "Exercise '{id}' is not in the course: choose an exercise from the list.",
    ),
    "free_practice": ("Pratique libre", "Free practice"),
    "language": ("Langue", "Language"),
    # detection AI (simulator.findings) at the console
    "findings_toggle": ("Résultats IA", "AI findings"),
    "findings_toggle_tip": (
        "Afficher les marques du détecteur IA sur l'image et leur liste",
        "Show the detection AI's marks on the image and their list",
    ),
    "findings_title": ("Détection IA — à vous de décider", "Detection AI — your decision"),
    "findings_on": ("Résultats IA affichés.", "AI findings shown."),
    "findings_off": ("Résultats IA masqués.", "AI findings hidden."),
    "findings_locked": (
        "Cet exercice évalue votre propre lecture : les résultats IA restent masqués.",
        "This exercise tests your own reading: the AI findings stay hidden.",
    ),
    "findings_none": (
        "L'IA ne signale rien sur cette série (cela ne veut pas dire qu'il n'y a rien).",
        "The AI flags nothing on this series (which does not mean there is nothing).",
    ),
    "findings_no_series": (
        "Acquérez une série : l'IA l'analysera.",
        "Acquire a series: the AI will analyse it.",
    ),
    "findings_unavailable": (
        "Détecteur IA indisponible pour cette série : aucun résultat n'est affiché.",
        "Detection AI unavailable for this series: no findings are shown.",
    ),
    "findings_failed": (
        "Le détecteur IA a échoué sur cette série : aucun résultat n'est affiché.",
        "The detection AI failed on this series: no findings are shown.",
    ),
    "findings_hidden": (
        "Marques IA masquées. Vos propres ajouts restent visibles.",
        "AI marks hidden. Your own findings stay visible.",
    ),
    "finding_accept": ("Accepter", "Accept"),
    "finding_reject": ("Rejeter", "Reject"),
    "finding_undo": ("Annuler", "Undo"),
    "finding_goto": ("Voir", "Show"),
    "finding_goto_tip": ("Aller à la coupe {slice}", "Go to slice {slice}"),
    "finding_add": ("Ajouter une lésion manquée", "Add a missed finding"),
    "finding_kind": ("Type de la lésion manquée à ajouter", "Kind of the missed finding to add"),
    "finding_add_armed": (
        "Cliquez sur l'image au centre de la lésion (coupe affichée).",
        "Click the image at the centre of the lesion (on the slice shown).",
    ),
    "finding_add_kind": ("Type", "Type"),
    "finding_any": ("non précisé", "unspecified"),
    "finding_confidence": ("confiance {pct} %", "confidence {pct}%"),
    "finding_slice": ("coupe {slice}", "slice {slice}"),
    "finding_slices": ("coupes {first}–{last}", "slices {first}–{last}"),
    "decision_none": ("à décider", "to decide"),
    "decision_accept": ("acceptée", "accepted"),
    "decision_reject": ("rejetée", "rejected"),
    "decision_add": ("ajoutée par vous", "added by you"),
    "finding_accepted": ("{id} acceptée : {what}", "{id} accepted: {what}"),
    "finding_rejected": ("{id} rejetée : {what}", "{id} rejected: {what}"),
    "finding_added": (
        "{id} ajoutée par vous (coupe {slice}).",
        "{id} added by you (slice {slice}).",
    ),
    "finding_undone": ("Décision sur {id} annulée.", "Decision on {id} undone."),
    "finding_unknown": (
        "Résultat « {id} » inconnu sur cette série (résultats : {allowed}).",
        "Finding '{id}' is not on this series (findings: {allowed}).",
    ),
    "finding_bad_kind": ("Pour {id} : accepter ou rejeter.", "For {id}: accept or reject."),
    "finding_outside": (
        "Cliquez à l'intérieur de l'image pour marquer une lésion.",
        "Click inside the image to mark a lesion.",
    ),
    "finding_bad_label": (
        "Type de lésion inconnu (types : {allowed}).",
        "Unknown finding type (types: {allowed}).",
    ),
    "by_actor": ("par {role} {actor}", "by {role} {actor}"),
    "findings_honesty": (
        "Ce que vaut ce détecteur (sensibilité, faux positifs par examen, échecs hors entraînement : mouvement, faible dose, séquence inconnue, image débruitée par IA) : docs/findings.md",
        "How good this detector is (sensitivity, false positives per exam, failures outside its training: motion, low dose, unseen sequence, AI-denoised input): docs/findings.md",
    ),
    "findings_figures": ("Chiffres de l'évaluation", "Evaluation figures"),
    "eval_condition": ("Examens évalués", "Cases evaluated"),
    "eval_cell": ("sensibilité {sens} ({hit}/{truth}), {fp} faux positifs par examen",
                  "sensitivity {sens} ({hit}/{truth}), {fp} false positives per case"),
    "eval_heldout": ("cas jamais vus, conditions d'entraînement",
                     "held-out cases, trained conditions"),
    "eval_motion": ("patient qui bouge (absent de l'entraînement)",
                    "moderate motion (not in training)"),
    "eval_unseen_sequence_t1": ("T1 SE : séquence jamais vue (entraîné sur FLAIR et T2)",
                                "T1 SE: a sequence never seen (trained on FLAIR and T2)"),
    "eval_unseen_sequence_t2_fs_axial": (
        "T2 FS axial : séquence et plan jamais vus (entraîné sur DP FS sagittal et T1 coronal)",
        "T2 fat-sat axial: a sequence and plane never seen (trained on PD-FS sagittal and "
        "T1 coronal)"),
    "eval_unseen_sequence_stir": ("STIR sagittal : séquence jamais vue (entraîné sur T1 et T2 "
                                  "sagittaux)",
                                  "sagittal STIR: a sequence never seen (trained on sagittal "
                                  "T1 and T2)"),
    "eval_half_time": ("moitié du temps (SENSE 2), plus de bruit",
                       "half the time (SENSE 2), noisier"),
    "eval_half_time_ai_denoised": ("moitié du temps, débruité par IA d'abord (IA sur IA)",
                                   "half the time, AI-denoised first (AI on AI)"),
    "eval_low_count_quarter_time": ("un quart du temps par lit, plus de bruit",
                                    "a quarter of the time per bed, noisier"),
    "eval_low_count_quarter_time_ai_denoised": (
        "un quart du temps par lit, débruité par IA d'abord (IA sur IA)",
        "a quarter of the time per bed, AI-denoised first (AI on AI)"),
    "label_ms_lesion": ("lésion de SEP", "MS lesion"),
    "label_tumour": ("tumeur", "tumour"),
    "label_disc_herniation": ("hernie discale", "disc herniation"),
    "label_meniscal_tear": ("déchirure méniscale", "meniscal tear"),
    "label_bone_marrow_oedema": ("œdème osseux", "bone-marrow oedema"),
    "label_pet_hot_lesion": ("foyer hypermétabolique", "hot lesion"),
}


def query_params(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Parameters of the Voilà page URL (``QUERY_STRING``), first value of each."""
    env = os.environ if env is None else env
    qs = env.get("QUERY_STRING", "") or ""
    return {k: v[0] for k, v in parse_qs(qs.lstrip("?")).items() if v}


def _norm(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().lower()
    for lang in LANGS:
        if value.startswith(lang):
            return lang
    return None


def detect_lang(lang: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """Pick ``"fr"``, ``"en"`` or ``"de"`` (argument, URL, MERM_LANG, browser, LANG; else
    English)."""
    env = os.environ if env is None else env
    browser = (env.get("HTTP_ACCEPT_LANGUAGE") or "").split(",")[0]
    for candidate in (
        lang,
        query_params(env).get("lang"),
        env.get("MERM_LANG"),
        browser,
        env.get("LC_ALL"),
        env.get("LANG"),
    ):
        found = _norm(candidate)
        if found:
            return found
    return "en"


def tr(key: str, lang: str, **kwargs: Any) -> str:
    """The string ``key`` in ``lang``, formatted with ``kwargs``; the key itself if unknown."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    if lang == "de":
        from simulator.console.i18n_de import DE

        text = DE.get(key, pair[1])
    else:
        text = pair[0] if lang == "fr" else pair[1]
    return text.format(**kwargs) if kwargs else text


def pick(lang: str, fr: str, en: str, de: str | None = None) -> str:
    """One of three renderings by language (German falls back to English when absent)."""
    if lang == "fr":
        return fr
    if lang == "de" and de is not None:
        return de
    return en


def text_of(table: Mapping[str, tuple[str, str, str]], key: str, lang: str, **kw: Any) -> str:
    """``table[key]`` — a (fr, en, de) triple of a panel's own texts — in ``lang``, formatted
    with ``kw``."""
    fr, en, de = table[key]
    return pick(lang, fr, en, de).format(**kw)


def decimal(value: float, lang: str, digits: int = 1, fmt: str | None = None) -> str:
    """``value`` with ``digits`` decimals (or the format spec ``fmt``, e.g. ``".3g"``) and
    the language's separator: "2,5" in French and German, "2.5" in English."""
    text = format(value, fmt) if fmt else f"{value:.{digits}f}"
    return text.replace(".", ",") if lang in ("fr", "de") else text


class Labels:
    """Registry of translated widget attributes, relabelled together on a language switch."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._items: list[tuple[object, str, str, dict[str, Any]]] = []
        self._hooks: list[Callable[[str], None]] = []

    def __call__(self, widget: Any, key: str, attr: str = "description", **kwargs: Any) -> Any:
        """Set ``widget.attr`` to the string ``key`` now and at every switch; return widget."""
        self._items.append((widget, attr, key, kwargs))
        setattr(widget, attr, tr(key, self.lang, **kwargs))
        return widget

    def t(self, key: str, **kwargs: Any) -> str:
        return tr(key, self.lang, **kwargs)

    def on_switch(self, hook: Callable[[str], None]) -> None:
        """Call ``hook(lang)`` after each switch (for texts built from data)."""
        self._hooks.append(hook)

    def switch(self, lang: str) -> None:
        self.lang = lang
        for widget, attr, key, kwargs in self._items:
            setattr(widget, attr, tr(key, lang, **kwargs))
        for hook in self._hooks:
            hook(lang)


#: French renderings of the physics packages' warnings (English, from check_protocol):
#: (regular expression, French template with the groups as {0}, {1}, …).
_WARNINGS_FR: tuple[tuple[str, str], ...] = (
    (
        r"effective TE ([\d.]+) ms \(a multiple of the echo spacing ([\d.]+) ms\)",
        "TE effectif {0} ms (multiple de l'espacement d'écho {1} ms)",
    ),
    (
        r"(\d+) slices do not fit one TR \(max (\d+)\): (\d+) concatenations, scan time multiplied",
        "{0} coupes ne tiennent pas dans un TR (max {1}) : {2} concaténations, durée multipliée",
    ),
    (
        r"SAR ([\d.]+) W/kg close to the limit ([\d.]+) W/kg",
        "DAS {0} W/kg proche de la limite {1} W/kg",
    ),
    (
        r"fat shift ([\d.]+) px: chemical-shift artefact visible",
        "déplacement graisse {0} px : artefact de déplacement chimique visible",
    ),
    (
        r"echo train (\d+): blurring of short-T2 tissues",
        "train d'échos {0} : flou des tissus à T2 court",
    ),
    (r"low SNR \(([\d.]+) of the reference\)", "RSB faible ({0} de la référence)"),
    (
        r"R = (\d+) with (\d+) channels: strong g-factor noise",
        "R = {0} avec {1} canaux : fort bruit de facteur g",
    ),
    (
        r"activity ([\d.]+) MBq is below the EANM recommendation \(([\d.]+) MBq for ([\d.]+) kg at ([\d.]+) min per bed\): expect a noisy image",
        "activité {0} MBq sous la recommandation EANM ({1} MBq pour {2} kg à {3} min par pas) : image bruitée attendue",
    ),
    (
        r"activity ([\d.]+) MBq is more than twice the EANM recommendation \(([\d.]+) MBq\): ([\d.]+) mSv to the patient for little image gain \(ALARA\)",
        "activité {0} MBq plus du double de la recommandation EANM ({1} MBq) : {2} mSv pour le patient sans gain d'image notable (ALARA)",
    ),
    (
        r"exam of (\d+) min: patients rarely stay still that long",
        "examen de {0} min : les patients restent rarement immobiles aussi longtemps",
    ),
    (
        r"uptake ([\d.]+) min is outside the EANM 55–75 min window: SUVs are not comparable with reference values",
        "fixation de {0} min hors de la fenêtre EANM 55–75 min : SUV non comparables aux valeurs de référence",
    ),
    (
        r"MLEM uses all angles at each iteration: subsets is ignored",
        "MLEM utilise tous les angles à chaque itération : les sous-ensembles sont ignorés",
    ),
    (
        r"(\d+)×(\d+) = (\d+) sub-iterations: the image will be very noisy unless post-filtered",
        "{0}×{1} = {2} sous-itérations : image très bruitée sans post-filtre",
    ),
)


#: German renderings of the same warnings, in the order of :data:`_WARNINGS_FR`.
_WARNINGS_DE: tuple[str, ...] = (
    "effektive TE {0} ms (ein Vielfaches des Echoabstands {1} ms)",
    "{0} Schichten passen nicht in eine TR (max. {1}): {2} Konkatenationen, Messzeit vervielfacht",
    "SAR {0} W/kg nahe der Grenze {1} W/kg",
    "Fettverschiebung {0} px: Chemical-Shift-Artefakt sichtbar",
    "Echozug {0}: Unschärfe von Geweben mit kurzer T2",
    "niedriges SNR ({0} der Referenz)",
    "R = {0} mit {1} Kanälen: starkes g-Faktor-Rauschen",
    "Aktivität {0} MBq unter der EANM-Empfehlung ({1} MBq für {2} kg bei {3} min pro Bett): "
    "verrauschtes Bild zu erwarten",
    "Aktivität {0} MBq mehr als das Doppelte der EANM-Empfehlung ({1} MBq): {2} mSv für den "
    "Patienten bei wenig Bildgewinn (ALARA)",
    "Untersuchung von {0} min: Patienten halten selten so lange still",
    "Anreicherung {0} min außerhalb des EANM-Fensters 55–75 min: SUV nicht mit Referenzwerten "
    "vergleichbar",
    "MLEM nutzt in jeder Iteration alle Winkel: Subsets werden ignoriert",
    "{0}×{1} = {2} Subiterationen: ohne Nachfilter sehr verrauschtes Bild",
)


def localize_warning(text: str, lang: str) -> str:
    """A physics warning in ``lang`` (French and German from the tables above; unknown ones
    stay English)."""
    if lang not in ("fr", "de"):
        return text
    import re

    for i, (pattern, template) in enumerate(_WARNINGS_FR):
        m = re.fullmatch(pattern, text.strip())
        if m:  # the numbers with the language's decimal separator ("11,9 ms")
            groups = (re.sub(r"(?<=\d)\.(?=\d)", ",", g or "") for g in m.groups())
            return (template if lang == "fr" else _WARNINGS_DE[i]).format(*groups)
    return text
