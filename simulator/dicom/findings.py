"""A detection AI's findings and the trainee's calls, carried in the exported DICOM files.

:func:`annotate_findings` adds, to the ImageComments (0020,4000) of each image a finding
lies on, one line per finding: who marked it (the AI with its id and confidence, or the
trainee), its type, where (rows and columns of its box), and the trainee's call. The
"simulated — not for diagnosis" notice stays first. The lines are English, as DICOM text
usually is, and short enough for the LT value (10 240 characters).

A Structured Report (TID 1500) would be the standard carrier; it needs ``highdicom``,
which is not a dependency of the project.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pydicom

__all__ = ["finding_lines", "annotate_findings"]

_LT_MAX = 10240
_CALL = {"accept": "accepted by the trainee", "reject": "rejected by the trainee",
         None: "not decided"}


def _span(d: Mapping[str, Any]) -> range:
    n = int(d.get("n_slices", 1) or 1)
    first = int(d["slice_index"]) - (n - 1) // 2
    return range(first, first + n)


def finding_lines(record: Mapping[str, Any], slice_index: int) -> list[str]:
    """The lines for image ``slice_index`` (0-based) of a series' findings record
    (``{"items", "decisions", "added"}``: the console's ``snapshot()["findings"]`` shape)."""
    decisions = dict(record.get("decisions") or {})
    out = []
    for d in record.get("items") or ():
        if slice_index not in _span(d):
            continue
        (r, c), (er, ec) = d["centre_rc"], d["extent_px"]
        out.append(
            f"AI finding {d['id']}: {d['label']} (confidence {float(d['confidence']):.2f}), "
            f"rows {r - er:.0f}-{r + er:.0f}, columns {c - ec:.0f}-{c + ec:.0f}, "
            f"centre slice {int(d['slice_index']) + 1}; {_CALL.get(decisions.get(d['id']))}"
        )
    for a in record.get("added") or ():
        if a.get("slice_index") != slice_index or a.get("centre_rc") is None:
            continue
        r, c = a["centre_rc"]
        out.append(
            f"Trainee finding {a['finding_id']}: {a.get('label') or 'unspecified'} missed by the "
            f"AI, at row {float(r):.0f}, column {float(c):.0f}"
        )
    return out


def annotate_findings(paths: Sequence[str | Path], record: Mapping[str, Any] | None) -> int:
    """Write the findings of ``record`` into the files of one series (``paths``, any order;
    the slice is the file's InstanceNumber − 1). Returns how many files changed (none for
    an empty or absent record: no file is read). The console's download and the PACS send
    (:func:`simulator.hospital.exam.send_exam`) both call this."""
    if not record or not (record.get("items") or record.get("added")):
        return 0
    changed = 0
    for path in paths:
        ds = pydicom.dcmread(str(path))
        k = int(getattr(ds, "InstanceNumber", 0) or 0) - 1
        lines = finding_lines(record, k)
        if not lines:
            continue
        text = "\n".join([str(getattr(ds, "ImageComments", "") or ""), *lines]).strip()
        ds.ImageComments = text[:_LT_MAX]
        ds.save_as(str(path))
        changed += 1
    return changed
