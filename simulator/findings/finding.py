"""What a detection AI reports: a finding, and the trainee's decision on it.

This module is the seam between the detectors (:mod:`simulator.findings`), the consoles
that draw and list the findings, the grader that scores the trainee's decisions, the
mentor's view and the DICOM/metrics writers. It holds data only: no detector, no UI.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["FINDING_LABELS", "DECISIONS", "Finding", "Decision"]

#: Finding types a detector may report (one home: the consoles, grader and texts use these).
FINDING_LABELS = (
    "ms_lesion",
    "tumour",
    "disc_herniation",
    "meniscal_tear",
    "bone_marrow_oedema",
    "pet_hot_lesion",
)

#: What a trainee may do with a finding.
DECISIONS = ("accept", "reject", "add")

DecisionKind = Literal["accept", "reject", "add"]


@dataclass(frozen=True)
class Finding:
    """One mark of a detection AI on a series.

    Attributes
    ----------
    label : str
        One of :data:`FINDING_LABELS`.
    slice_index : int
        Index of the image in the series (0-based) where the finding is centred.
    centre_rc : tuple of float
        (row, column) of the centre on that image, in pixels.
    extent_px : tuple of float
        (rows, columns) half-extent of the box that bounds the finding, in pixels.
    n_slices : int
        Slices the finding spans (≥ 1).
    confidence : float
        Detector score in [0, 1].
    text : dict of str to str
        One-line finding text per language code (``"fr"``, ``"en"``, ``"de"``).
    id : str
        Stable identifier within the series (e.g. ``"F1"``), what decisions refer to.
    measure : dict of str to float
        Optional figures that go with the text (e.g. ``{"suv_max": 6.1, "diameter_mm": 12}``).
    """

    label: str
    slice_index: int
    centre_rc: tuple[float, float]
    extent_px: tuple[float, float]
    confidence: float
    text: dict[str, str]
    id: str
    n_slices: int = 1
    measure: dict[str, float] | None = None

    def __post_init__(self) -> None:
        if self.label not in FINDING_LABELS:
            raise ValueError(f"unknown finding label {self.label!r}; allowed: {FINDING_LABELS}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must lie in [0, 1], got {self.confidence}")
        if self.n_slices < 1:
            raise ValueError(f"n_slices must be ≥ 1, got {self.n_slices}")

    def text_in(self, lang: str) -> str:
        """The finding text in ``lang``, falling back to English."""
        return self.text.get(lang) or self.text.get("en") or self.label

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the console snapshot, the metrics and the mentor use it)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        """Inverse of :meth:`to_dict`."""
        return cls(
            label=str(d["label"]),
            slice_index=int(d["slice_index"]),
            centre_rc=(float(d["centre_rc"][0]), float(d["centre_rc"][1])),
            extent_px=(float(d["extent_px"][0]), float(d["extent_px"][1])),
            confidence=float(d["confidence"]),
            text={str(k): str(v) for k, v in dict(d["text"]).items()},
            id=str(d["id"]),
            n_slices=int(d.get("n_slices", 1)),
            measure=None if d.get("measure") is None else {str(k): float(v) for k, v in d["measure"].items()},
        )


@dataclass(frozen=True)
class Decision:
    """What the trainee did with one finding, or a finding they added.

    Attributes
    ----------
    kind : {"accept", "reject", "add"}
    finding_id : str
        The :attr:`Finding.id` decided on; for ``"add"`` a new id (e.g. ``"T1"``).
    slice_index : int or None
        For ``"add"``: where the trainee marked the missed finding.
    centre_rc : tuple of float or None
        For ``"add"``: (row, column) of the trainee's mark, in pixels.
    label : str or None
        For ``"add"``: the finding type the trainee names, if any.
    """

    kind: DecisionKind
    finding_id: str
    slice_index: int | None = None
    centre_rc: tuple[float, float] | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in DECISIONS:
            raise ValueError(f"unknown decision {self.kind!r}; allowed: {DECISIONS}")
        if self.kind == "add" and (self.slice_index is None or self.centre_rc is None):
            raise ValueError("an 'add' decision needs slice_index and centre_rc")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)
