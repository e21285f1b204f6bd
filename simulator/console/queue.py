"""Protocol queue (the exam's series list): add, duplicate, reorder, remove, load, run.

:class:`ProtocolQueue` is plain data (entries of a label and a frozen protocol); the widget
:class:`QueuePanel` only maps buttons onto it and onto the session.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import ipywidgets as W

from simulator.console.i18n import Labels

__all__ = ["QueueEntry", "ProtocolQueue", "QueuePanel"]


@dataclasses.dataclass(frozen=True)
class QueueEntry:
    label: str
    protocol: Any
    done: bool = False


class ProtocolQueue:
    """An ordered list of protocols; every operation returns the new selected index."""

    def __init__(self) -> None:
        self.entries: list[QueueEntry] = []

    def add(self, label: str, protocol: Any) -> int:
        self.entries.append(QueueEntry(label, protocol))
        return len(self.entries) - 1

    def duplicate(self, i: int) -> int:
        e = self.entries[i]
        self.entries.insert(i + 1, QueueEntry(e.label + " (2)", e.protocol))
        return i + 1

    def move(self, i: int, step: int) -> int:
        j = max(0, min(len(self.entries) - 1, i + step))
        self.entries.insert(j, self.entries.pop(i))
        return j

    def remove(self, i: int) -> int:
        self.entries.pop(i)
        return min(i, len(self.entries) - 1)

    def mark_done(self, i: int) -> None:
        self.entries[i] = dataclasses.replace(self.entries[i], done=True)

    def next_pending(self) -> int | None:
        return next((i for i, e in enumerate(self.entries) if not e.done), None)


class QueuePanel:
    """Series list with buttons; Run loads the selected protocol into the card and scans."""

    def __init__(
        self, session: Any, labels: Labels, on_load: Any = None, on_run: Any = None
    ) -> None:
        self.session, self.L = session, labels
        self.queue = ProtocolQueue()
        self.on_load, self.on_run = on_load, on_run
        self.run_all = False
        session.on_change(self._on_event)
        self.list = W.Select(options=[], rows=7, layout=W.Layout(width="430px"))
        self.list.add_class("merm-queue")
        labels(self.list, "tab_queue", "tooltip")  # its accessible name (no visible label)
        self.buttons: dict[str, W.Button] = {}
        for key, icon in (
            ("queue_add", "plus"),
            ("queue_dup", "copy"),
            ("queue_up", "arrow-up"),
            ("queue_down", "arrow-down"),
            ("queue_del", "trash"),
            ("queue_load", "upload"),
            ("queue_run", "play"),
            ("queue_run_all", "forward"),
        ):
            b = labels(W.Button(icon=icon, layout=W.Layout(width="auto")), key)
            b.add_class(f"merm-{key.replace('_', '-')}")
            b.on_click(lambda _b, k=key: self.press(k))
            self.buttons[key] = b
        self.buttons["queue_run"].button_style = "success"
        self.widget = W.VBox(
            [self.list, W.HBox(list(self.buttons.values()), layout=W.Layout(flex_flow="row wrap"))]
        )
        self.widget.add_class("merm-queue-panel")

    def refresh(self, select: int | None = None) -> None:
        opts = [
            (("✔ " if e.done else "• ") + f"{i + 1}. {e.label}", i)
            for i, e in enumerate(self.queue.entries)
        ]
        self.list.options = opts
        if select is not None and 0 <= select < len(opts):
            self.list.value = select

    def add_current(self, label: str | None = None) -> None:
        p = self.session.protocol
        if label is None:
            label = self.session._series_label(p)
        self.refresh(self.queue.add(label, p))

    def _on_event(self, event: dict) -> None:
        """Run-all mode: when a scan is done, start the next pending entry."""
        if not self.run_all or event.get("type") != "scan_progress":
            return
        if event.get("state") in ("stopped", "error"):
            self.run_all = False
        elif event.get("state") == "done":
            # this event comes from the scan thread: start the next one once it has ended
            threading.Thread(target=self._next, daemon=True, name="merm-queue").start()

    def _next(self) -> None:
        self.session.wait()
        nxt = self.queue.next_pending()
        if nxt is None:
            self.run_all = False
            return
        self.list.value = nxt
        self.press("queue_run")

    def press(self, key: str) -> None:
        i = self.list.value
        if key == "queue_add":
            self.add_current()
            return
        if key == "queue_run_all":
            nxt = self.queue.next_pending()
            if nxt is not None:
                self.run_all = True
                self.list.value = nxt
                self.press("queue_run")
            return
        if i is None:
            return
        if key == "queue_dup":
            self.refresh(self.queue.duplicate(i))
        elif key == "queue_up":
            self.refresh(self.queue.move(i, -1))
        elif key == "queue_down":
            self.refresh(self.queue.move(i, +1))
        elif key == "queue_del":
            self.refresh(self.queue.remove(i))
        elif key in ("queue_load", "queue_run"):
            entry = self.queue.entries[i]
            result = self.session.load_protocol(entry.protocol, entry.label, standard=False)
            if self.on_load:
                self.on_load()
            if key == "queue_run" and result["ok"]:
                started = self.session.apply_command({"type": "scan"}, "local", "trainee")
                if started["ok"]:
                    self.queue.mark_done(i)
                    self.refresh(i)
                else:
                    self.run_all = False
