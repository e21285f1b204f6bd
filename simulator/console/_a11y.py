"""The console's keyboard bridge and ARIA states (WCAG 2.2 AA), in the browser.

ipywidgets gives the image the focus (``tabbable``) but no name and no keyboard events:
ipyevents listens to keys only while the mouse is over the element. The :class:`A11yBridge`
(an ``anywidget``, invisible) adds in the page what the widgets lack:

- the images beside it (the viewer's, the localizers) named by :attr:`A11yBridge.names`;

- the keys pressed while a ``.merm-image`` of its viewer has the focus (PageUp/PageDown,
  Shift+arrows; see :data:`KEYS`) go to Python, to :meth:`A11yBridge.on_key`'s callback,
  which issues the same session commands as the sliders;
- a scrolling box becomes focusable (the keyboard scrolls it), and an empty hidden widget
  label stops hiding the control's own name (its tooltip);
- each slider handle (``role=slider``) is named after the slider's label (the technologist's
  name of the parameter, already translated) or its tooltip;
- each button of a ``ToggleButtons`` (the safety answers, view modes, language) carries
  ``aria-pressed``, following the widget's selected button, and a toggle button too; one
  with a tooltip (the safety answers: question and answer) is named by it.

It reads only names and states that Python set (from the i18n tables): it writes no text.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import anywidget
import traitlets

__all__ = ["A11yBridge", "KEYS"]

#: The keys the image answers to, with Shift for the arrows (the page keeps the bare arrows
#: for scrolling, and Tab leaves the image): PageDown/PageUp next/previous slice;
#: Shift+→/← wider/narrower window; Shift+↑/↓ higher/lower level.
KEYS = ("PageUp", "PageDown", "Shift+ArrowLeft", "Shift+ArrowRight", "Shift+ArrowUp",
        "Shift+ArrowDown")

_ESM = """
const KEYS = new Set(__KEYS__);

function keyName(e) {
  if (e.altKey || e.ctrlKey || e.metaKey) return null;
  const name = e.key.startsWith("Arrow") ? (e.shiftKey ? "Shift+" + e.key : e.key) : e.key;
  return KEYS.has(name) ? name : null;
}

function syncAria(root) {
  // an empty, hidden widget label labels nothing: unlink it, and name the control by its
  // tooltip (title)
  for (const l of root.querySelectorAll("label.widget-label[for]")) {
    if (l.textContent.trim() || l.style.display !== "none") continue;
    const control = document.getElementById(l.getAttribute("for"));
    l.removeAttribute("for");
    const title = control && control.getAttribute("title");
    if (title) control.setAttribute("aria-label", title);
  }
  // a box that scrolls (a long metrics table) takes the focus, so the keyboard scrolls it
  for (const e of root.querySelectorAll(".widget-html-content, .widget-select select")) {
    const style = getComputedStyle(e);
    const scrolls = /(auto|scroll)/.test(style.overflowY) && e.scrollHeight > e.clientHeight + 1;
    if (scrolls && !e.hasAttribute("tabindex")) e.setAttribute("tabindex", "0");
  }
  for (const w of root.querySelectorAll(".widget-slider")) {
    const label = w.querySelector(":scope > .widget-label");
    const name = ((label && label.textContent) || w.getAttribute("title") || "").trim();
    for (const h of w.querySelectorAll("[role=slider]")) {
      if (name && h.getAttribute("aria-label") !== name) h.setAttribute("aria-label", name);
    }
  }
  for (const b of root.querySelectorAll(".widget-toggle-buttons button, button.widget-toggle-button")) {
    const pressed = b.classList.contains("mod-active") ? "true" : "false";
    if (b.getAttribute("aria-pressed") !== pressed) b.setAttribute("aria-pressed", pressed);
    const title = b.getAttribute("title");  // a choice's tooltip names it in full
    if (title && b.closest(".widget-toggle-buttons") && b.getAttribute("aria-label") !== title) {
      b.setAttribute("aria-label", title);
    }
  }
}

function focusImages(scope, classes) {
  for (const css of classes || []) {
    for (const img of scope.querySelectorAll("." + css)) {
      if (img.getAttribute("tabindex") !== "0") img.setAttribute("tabindex", "0");
    }
  }
}

function nameImages(scope, names) {
  for (const [css, name] of Object.entries(names || {})) {
    for (const img of scope.querySelectorAll("." + css)) {
      if (img.getAttribute("aria-label") !== name) img.setAttribute("aria-label", name);
    }
  }
}

function render({ model, el }) {
  el.classList.add("merm-a11y-bridge");
  // the bridge sits in the box of the images it serves (the viewer, the planning)
  const scope = () => el.parentElement || document;
  const root = () => el.closest(".merm-root") || document.body;
  const onKey = (e) => {
    const target = e.target;
    if (!(target instanceof Element) || !target.classList.contains("merm-image")) return;
    if (!scope().contains(target)) return;
    const name = keyName(e);
    if (!name) return;
    e.preventDefault();
    e.stopPropagation();
    model.send({ key: name });
  };
  document.addEventListener("keydown", onKey, true);
  let pending = 0;
  const later = () => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = 0;
      syncAria(root());
      nameImages(scope(), model.get("names"));
      focusImages(scope(), model.get("focusable"));
    }, 50);
  };
  model.on("change:names", later);
  const observer = new MutationObserver(later);
  observer.observe(document.body, { subtree: true, childList: true, attributes: true,
                                    attributeFilter: ["class", "title"] });
  later();
  return () => {
    document.removeEventListener("keydown", onKey, true);
    observer.disconnect();
    clearTimeout(pending);
  };
}

export default { render };
""".replace("__KEYS__", json.dumps(list(KEYS)))


class A11yBridge(anywidget.AnyWidget):  # type: ignore[misc]
    """Keyboard of the focused image and ARIA states of the console's widgets (see module)."""

    _esm = _ESM
    #: accessible name (``aria-label``) of the images of each CSS class beside the bridge;
    #: ipywidgets' ``Image`` has no ``alt``, and its ``tooltip`` breaks the view (8.1: it
    #: reads a ``description`` that an image has not)
    names = traitlets.Dict().tag(sync=True)
    #: CSS classes of the images beside the bridge that take the keyboard focus (Tab);
    #: the Image view ignores ``tabbable``
    focusable: traitlets.List[str] = traitlets.List().tag(sync=True)

    def __init__(self) -> None:
        super().__init__()
        self.layout.width = self.layout.height = "0px"
        self._callbacks: list[Callable[[str], object]] = []
        self.on_msg(self._on_msg)

    def on_key(self, callback: Callable[[str], object]) -> None:
        """Call ``callback(key)`` (one of :data:`KEYS`) for each key pressed on the image."""
        self._callbacks.append(callback)

    def press(self, key: str) -> None:
        """What the key ``key`` does, without a browser (tests, a scripted trainee)."""
        if key in KEYS:
            for cb in list(self._callbacks):
                cb(key)

    def _on_msg(self, _widget: object, content: object, _buffers: object) -> None:
        if isinstance(content, dict) and isinstance(content.get("key"), str):
            self.press(content["key"])
