"""One-line finding texts in French, English and German, and the detectors' error messages.

Slice numbers in the texts count from 1, as the console shows them (``slice_index + 1``).
"""

from __future__ import annotations

from simulator.errors import UserError

__all__ = ["FindingsError", "finding_text", "LABEL_NAMES"]

#: Finding type in words, per language (the console's legend and the grader use them).
LABEL_NAMES: dict[str, dict[str, str]] = {
    "ms_lesion": {
        "fr": "Lésion hyperintense de la substance blanche",
        "en": "Hyperintense white-matter lesion",
        "de": "Hyperintense Läsion der weißen Substanz",
    },
    "tumour": {
        "fr": "Masse intracérébrale",
        "en": "Intracerebral mass",
        "de": "Intrazerebrale Raumforderung",
    },
    "disc_herniation": {"fr": "Hernie discale", "en": "Disc herniation", "de": "Bandscheibenvorfall"},
    "meniscal_tear": {"fr": "Lésion méniscale", "en": "Meniscal tear", "de": "Meniskusriss"},
    "bone_marrow_oedema": {
        "fr": "Œdème osseux médullaire",
        "en": "Bone-marrow oedema",
        "de": "Knochenmarködem",
    },
    "pet_hot_lesion": {
        "fr": "Foyer hypermétabolique",
        "en": "Hypermetabolic focus",
        "de": "Hypermetaboler Herd",
    },
}

_SLICE = {"fr": "coupe", "en": "slice", "de": "Schicht"}
_SIDE = {
    "right": {"fr": "à droite", "en": "patient's right", "de": "rechts"},
    "left": {"fr": "à gauche", "en": "patient's left", "de": "links"},
    "midline": {"fr": "médian", "en": "midline", "de": "median"},
}


def _num(value: float, lang: str, digits: int = 1) -> str:
    s = f"{value:.{digits}f}"
    return s.replace(".", ",") if lang in ("fr", "de") else s


def finding_text(
    label: str,
    slice_index: int,
    diameter_mm: float,
    suv_max: float | None = None,
    side: str | None = None,
    level: str | None = None,
) -> dict[str, str]:
    """The one-line text of a finding in ``fr``, ``en`` and ``de``.

    ``level`` (a spinal level, e.g. ``"L4–L5"`` or ``"L1"``) follows the finding type.

    Examples
    --------
    >>> finding_text("ms_lesion", 11, 6.2)["fr"]
    'Lésion hyperintense de la substance blanche, 6 mm, coupe 12'
    >>> finding_text("pet_hot_lesion", 153, 12.0, suv_max=6.13, side="right")["en"]
    "Hypermetabolic focus, SUVmax 6.1, 12 mm, slice 154, patient's right"
    >>> finding_text("disc_herniation", 7, 8.4, side="left", level="L4–L5")["de"]
    'Bandscheibenvorfall L4–L5, 8 mm, Schicht 8, links'
    """
    out: dict[str, str] = {}
    for lang in ("fr", "en", "de"):
        parts = [LABEL_NAMES[label][lang] + (f" {level}" if level else "")]
        if suv_max is not None:
            parts.append(f"SUVmax {_num(suv_max, lang)}")
        parts.append(f"{round(diameter_mm):d} mm")
        parts.append(f"{_SLICE[lang]} {slice_index + 1}")
        if side is not None:
            parts.append(_SIDE[side][lang])
        out[lang] = ", ".join(parts)
    return out


class FindingsError(UserError):
    """A series the detectors cannot read, with the message in French, English and German."""

    def __init__(self, en: str, fr: str, de: str) -> None:
        super().__init__(en, fr)
        self.de = de

    def message(self, lang: str = "en") -> str:
        """The message in ``lang`` (``"fr"``, ``"en"`` or ``"de"``)."""
        return self.de if lang.startswith("de") else super().message(lang)
