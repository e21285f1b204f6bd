"""YAML parsing that remembers the line of every key and value.

PyYAML's composer builds a node tree whose nodes carry ``start_mark`` (0-based line and
column). We walk that tree ourselves, building plain Python objects with the safe
constructor for scalars, and record for each path (a tuple of keys and indices) the
1-based line where its value starts and where its key sits. Validation errors can then
say ``FILE:LINE: message``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


class YamlSyntaxError(Exception):
    """A YAML syntax error with its 1-based line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class LineMap:
    """1-based lines of each value (``value``) and each mapping key (``key``) by path."""

    value: dict[Path_, int] = field(default_factory=dict)
    key: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> int:
        """Line of the deepest known ancestor of ``path`` (key line first, then value)."""
        p = tuple(path)
        while p:
            if p in self.key:
                return self.key[p]
            if p in self.value:
                return self.value[p]
            p = p[:-1]
        return self.value.get((), 1)


_CONSTRUCTOR = yaml.SafeLoader("")
_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _scalar(node: yaml.ScalarNode) -> Any:
    value = _CONSTRUCTOR.construct_object(node, deep=True)  # type: ignore[no-untyped-call]
    _CONSTRUCTOR.constructed_objects.clear()
    return value


def _build(node: yaml.Node, path: Path_, lines: LineMap) -> Any:
    lines.value[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for knode, vnode in node.value:
            if knode.tag == "tag:yaml.org,2002:merge":
                raise YamlSyntaxError(knode.start_mark.line + 1, "YAML merge keys (<<) are not supported")
            if not isinstance(knode, yaml.ScalarNode):
                raise YamlSyntaxError(knode.start_mark.line + 1, "mapping keys must be plain scalars")
            key = _scalar(knode)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise YamlSyntaxError(knode.start_mark.line + 1, "mapping keys must be plain scalars")
            key = str(key) if not isinstance(key, str) else key
            if key in out:
                raise YamlSyntaxError(knode.start_mark.line + 1, f"duplicate key '{key}'")
            lines.key[path + (key,)] = knode.start_mark.line + 1
            out[key] = _build(vnode, path + (key,), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), lines) for i, item in enumerate(node.value)]
    if not isinstance(node, yaml.ScalarNode):  # the composer makes no other kind of node
        raise YamlSyntaxError(node.start_mark.line + 1, "unsupported YAML node")
    return _scalar(node)


def parse_with_lines(text: str) -> tuple[Any, LineMap]:
    """Parse one YAML document; return the data and its :class:`LineMap`.

    Raises
    ------
    YamlSyntaxError
        On a syntax error, a duplicate key, a merge key or several documents.
    """
    lines = LineMap()
    try:
        node = yaml.compose(text, Loader=_COMPOSER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or "syntax error"
        context = f" ({exc.context})" if exc.context else ""
        raise YamlSyntaxError(line, f"YAML syntax error: {problem}{context}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, f"YAML error: {exc}") from None
    if node is None:
        return None, lines
    try:
        data = _build(node, (), lines)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise YamlSyntaxError(mark.line + 1 if mark else 1, f"YAML error: {exc.problem}") from None
    return data, lines
