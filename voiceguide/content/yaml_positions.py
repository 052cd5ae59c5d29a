"""Parse YAML into plain data while remembering where every key and value sits in the file.

PyYAML's constructor throws positions away, so we compose the node tree with a SafeLoader
and build the data ourselves, recording each node's mark under its data path. Anchors,
aliases and merge keys (`<<: *anchor`) are resolved here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from voiceguide.content.problem import Problem, format_field

DataPath = tuple[str | int, ...]

# Aliases can expand exponentially ("billion laughs"); no real routine comes near this.
MAX_NODES = 50_000
MAX_DEPTH = 64

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_RECURSIVE = "an alias refers to itself; recursive data is not allowed"


@dataclass(frozen=True)
class Pos:
    """Where a value (and the key naming it, if any) starts: 1-based line and column."""

    line: int
    column: int
    key_line: int
    key_column: int


class _Loader(yaml.SafeLoader):
    """SafeLoader used only to compose nodes and construct scalars; no extra tags."""


class _TooBig(Exception):
    pass


@dataclass
class ParsedYaml:
    """A parsed YAML file: its data, the position of every path, and any problems."""

    path: str
    data: Any = None
    positions: dict[DataPath, Pos] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    parsed: bool = False  # False when the file could not be read or parsed at all

    def pos(self, path: DataPath) -> Pos:
        """Position of `path`, or of its nearest recorded ancestor."""
        while path and path not in self.positions:
            path = path[:-1]
        return self.positions.get(path, Pos(1, 1, 1, 1))

    def problem(self, path: DataPath, message: str, *, at_key: bool = False) -> Problem:
        """A Problem at `path` (its key when `at_key`, else its value)."""
        pos = self.pos(path)
        line, column = (pos.key_line, pos.key_column) if at_key else (pos.line, pos.column)
        return Problem(self.path, line, column, format_field(path), message)


def _file_problem(path: str, line: int, column: int, message: str) -> Problem:
    return Problem(path, line, column, "", message)


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def parse_yaml_file(path: Path, display: str | None = None) -> ParsedYaml:
    """Read and parse one YAML file; every failure becomes a Problem, never an exception."""
    name = display if display is not None else str(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        return ParsedYaml(
            name, problems=[_file_problem(name, 1, 1, f"cannot read file: {e.strerror}")]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        column = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        byte = raw[e.start]
        message = f"file is not UTF-8 text (byte 0x{byte:02x} cannot be decoded)"
        return ParsedYaml(name, problems=[_file_problem(name, line, column, message)])
    return parse_yaml_text(text, name)


def parse_yaml_text(text: str, name: str) -> ParsedYaml:
    """Parse YAML text that came from file `name` (used in problem locations)."""
    result = ParsedYaml(name)
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # the reader rejects control characters right here
        node = loader.get_single_node()
        if node is None:
            result.problems.append(_file_problem(name, 1, 1, "file is empty"))
            return result
        builder = _Builder(loader, result)
        result.data = builder.build(node, (), None)
        result.parsed = True
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = e.problem or e.context or "syntax error"
        if e.context and reason.startswith("but "):
            reason = f"{e.context}, {reason}"  # "expected a single document ..., but found ..."
        result.problems.append(_file_problem(name, line, column, f"could not parse YAML: {reason}"))
    except yaml.reader.ReaderError as e:
        line, column = _line_col(text, e.position)
        message = f"could not parse YAML: unacceptable character #x{e.character:04x}"
        result.problems.append(_file_problem(name, line, column, message))
    except yaml.YAMLError as e:
        result.problems.append(_file_problem(name, 1, 1, f"could not parse YAML: {e}"))
    except (_TooBig, RecursionError):
        message = "could not parse YAML: the document is too large or too deeply nested"
        result.problems.append(_file_problem(name, 1, 1, message))
    finally:
        if loader is not None:
            loader.dispose()
    if not result.parsed:
        result.data = None
    return result


def _pos(node: Node, key_node: Node | None) -> Pos:
    mark = node.start_mark
    key_mark = key_node.start_mark if key_node is not None else mark
    return Pos(mark.line + 1, mark.column + 1, key_mark.line + 1, key_mark.column + 1)


class _Builder:
    """Turns composed nodes into dicts, lists and scalars, recording positions as it goes."""

    def __init__(self, loader: _Loader, result: ParsedYaml) -> None:
        self.loader = loader
        self.result = result
        self.nodes_left = MAX_NODES
        self.active: set[int] = set()  # nodes on the current path, to stop recursive aliases

    def _problem(self, node: Node, path: DataPath, message: str) -> None:
        mark = node.start_mark
        self.result.problems.append(
            Problem(self.result.path, mark.line + 1, mark.column + 1, format_field(path), message)
        )

    def build(self, node: Node, path: DataPath, key_node: Node | None) -> Any:
        self.nodes_left -= 1
        if self.nodes_left < 0 or len(path) > MAX_DEPTH:
            raise _TooBig
        self.result.positions[path] = _pos(node, key_node)
        if isinstance(node, ScalarNode):
            return self.loader.construct_object(node)
        if id(node) in self.active:
            self._problem(node, path, _RECURSIVE)
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if node.tag != _SEQ_TAG:
                    self._problem(node, path, f"unsupported YAML tag '{node.tag}'")
                return [self.build(item, (*path, i), None) for i, item in enumerate(node.value)]
            assert isinstance(node, MappingNode)
            if node.tag != _MAP_TAG:
                self._problem(node, path, f"unsupported YAML tag '{node.tag}'")
            return self._mapping(node, path)
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: MappingNode, path: DataPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        # Merged keys first, explicit keys after, so explicit ones win (and so do their positions).
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                result.update(self._merge_sources(value_node, path))
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            if not isinstance(key_node, ScalarNode):
                self._problem(key_node, path, "mapping keys must be plain text")
                continue
            # The key as written: "on:" stays "on", not True, so messages quote what the user typed.
            key = key_node.value
            if key in seen:
                self._problem(key_node, (*path, key), f"duplicate key '{key}'")
            seen.add(key)
            result[key] = self.build(value_node, (*path, key), key_node)
        return result

    def _merge_sources(self, value_node: Node, path: DataPath) -> dict[str, Any]:
        if isinstance(value_node, MappingNode):
            sources = [value_node]
        elif isinstance(value_node, SequenceNode) and all(
            isinstance(n, MappingNode) for n in value_node.value
        ):
            sources = list(value_node.value)
        else:
            self._problem(
                value_node, path, "'<<' must be followed by a mapping or list of mappings"
            )
            return {}
        result: dict[str, Any] = {}
        # In `<<: [*a, *b]` the earlier mapping wins, so build later ones first and overwrite.
        for source in reversed(sources):
            if id(source) in self.active:
                self._problem(value_node, path, _RECURSIVE)
                continue
            self.active.add(id(source))
            try:
                result.update(self._mapping(source, path))
            finally:
                self.active.discard(id(source))
        return result
