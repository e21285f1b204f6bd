"""The AI strength field of the parameter card: a 0–100 % slider that the AI switch gates.

``ai_strength`` (0–1, on both protocols) is how much of the denoiser's output the image takes:
``(1 − s)·reconstruction + s·network``. The card shows it as a slider with a percentage
beside it (a whole number of percent: no decimal separator to localise), greyed and disabled
while ``ai_denoise`` is off, since it then changes nothing. The value still travels through
the session's ``set_param`` command like every other field (attributed, undoable, locked by
an exercise's ``editable`` list).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from simulator.console import _shared
from simulator.console.i18n import tr

__all__ = ["STEP", "strength_text", "strength_slider", "gate"]

#: Slider step: 5 % of the network's output.
STEP = 0.05


def strength_text(value: float, lang: str) -> str:
    """``value`` (0–1) as the card writes it: a whole percentage, "50 %" (same in fr/en/de)."""
    del lang  # a whole number of percent reads the same in the three languages
    return f"{round(100 * float(value))} %"


def strength_slider(value: float) -> tuple[W.FloatSlider, W.HTML, W.HBox]:
    """The slider (0–1, step :data:`STEP`, sent on release), its percentage, and their row."""
    slider = W.FloatSlider(
        value=float(value),
        min=0.0,
        max=1.0,
        step=STEP,
        readout=False,
        continuous_update=False,
        layout=_shared.layout(width="238px"),
        style=_slider_style(),
    )
    readout = _shared.html(strength_text(value, "en"), "merm-ai-strength-readout",
                           width="40px", margin="0 0 0 2px")
    slider.observe(lambda ch: setattr(readout, "value", strength_text(ch["new"], "en")), "value")
    row = W.HBox([slider, readout], layout=_shared.layout(width="280px"))
    return slider, readout, row


def gate(slider: W.Widget, protocol: Any, lang: str) -> bool:
    """Grey out the slider while AI denoising is off; True when it is gated off.

    Only adds the disabled state: the caller decides the rest (exercise lock, mentor control).
    """
    off = not bool(getattr(protocol, "ai_denoise", False))
    if off:
        slider.disabled = True
        slider.add_class("merm-ai-off")
        slider.tooltip = tr("ai_strength_off_tip", lang)
    else:
        slider.remove_class("merm-ai-off")
    return off


def _slider_style() -> W.SliderStyle:
    return W.SliderStyle(description_width="150px")
