"""A slider's value as the console writes numbers: the language's decimal separator.

ipywidgets' own readout formats with d3-format, which always writes a point ("0.500" on a
French or German page); the console hides it and shows this label instead, updated with the
value and relabelled at a language switch.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from simulator.console.i18n import Labels, decimal

__all__ = ["Readout"]


class Readout:
    """``slider`` followed by its value in ``labels``' language, ``digits`` decimals.

    Parameters
    ----------
    slider : ipywidgets.FloatSlider
        The slider; its own (point-only) readout is turned off.
    labels : Labels
        The console's label registry (language and switch hooks).
    digits : int
        Decimals shown; :meth:`set_digits` changes them (MR integers, PET SUV).
    css : str
        Class of the slider (``merm-window``); the label gets ``<css>-readout``.
    """

    def __init__(self, slider: W.FloatSlider, labels: Labels, digits: int, css: str) -> None:
        self.slider, self.L, self.digits = slider, labels, digits
        slider.readout = False
        self.label = W.Label(layout=W.Layout(min_width="64px"))
        self.label.add_class("merm-readout")
        self.label.add_class(f"{css}-readout")
        self.widget = W.HBox([slider, self.label])
        slider.observe(lambda _ch: self.update(), "value")
        labels.on_switch(lambda _lang: self.update())
        self.update()

    def set_digits(self, digits: int) -> None:
        self.digits = int(digits)
        self.update()

    def text(self, value: Any | None = None) -> str:
        """The value (default: the slider's) as shown."""
        v = float(self.slider.value if value is None else value)
        return decimal(v, self.L.lang, self.digits)

    def update(self) -> None:
        self.label.value = self.text()
