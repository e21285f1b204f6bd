"""Shared layout and style models: one model for many widgets that never change them.

Each ipywidgets widget otherwise opens its own ``Layout`` and ``Style`` models (two more
comms per widget); a console of ~150 widgets then sends ~560 models to the browser, which
slows the first page. Widgets whose layout or style the console never mutates share these.
Created per kernel on first use (widgets are kernel objects).
"""

from __future__ import annotations

import functools

import ipywidgets as W
from ipywidgets.widgets.widget_description import DescriptionStyle
from ipywidgets.widgets.widget_selection import ToggleButtonsStyle
from ipywidgets.widgets.widget_string import HTMLStyle, LabelStyle

__all__ = ["layout", "description_style", "html_style", "html"]


@functools.lru_cache(maxsize=64)
def layout(**kw: str) -> W.Layout:
    """A shared ``Layout`` with these properties (never mutate it)."""
    return W.Layout(**kw)


@functools.lru_cache(maxsize=8)
def description_style(width: str = "150px") -> DescriptionStyle:
    return DescriptionStyle(description_width=width)


@functools.lru_cache(maxsize=1)
def html_style() -> HTMLStyle:
    return HTMLStyle()


@functools.lru_cache(maxsize=4)
def toggle_style(button_width: str) -> ToggleButtonsStyle:
    return ToggleButtonsStyle(button_width=button_width)


@functools.lru_cache(maxsize=1)
def label_style() -> LabelStyle:
    return LabelStyle()


def html(value: str = "", *classes: str, **layout_kw: str) -> W.HTML:
    """An ``HTML`` widget on shared layout and style models."""
    h = W.HTML(value, layout=layout(**layout_kw), style=html_style())
    for c in classes:
        h.add_class(c)
    return h
