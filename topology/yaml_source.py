"""Safe YAML reading that remembers where every value came from.

PyYAML's ``safe_load`` forgets positions, silently keeps the last of two
duplicate keys and happily expands an alias bomb into gigabytes. Plans are
written by hand and every error must name a file, line and column, so this
module composes the YAML node tree itself and builds plain Python data from
it, recording a :class:`~topology.errors.Mark` for every mapping key and
sequence item. No library offers this (ruamel keeps marks but not the limits),
hence the hand-written walk.

Guarantees:
- only plain data (mappings, sequences, strings, numbers, booleans, null);
  no tag ever constructs an object, so loading never runs code;
- files above :data:`MAX_FILE_BYTES` are refused before they are read;
- bytes that are not UTF-8 are reported with their line and column;
- duplicate keys are errors;
- alias expansion may add at most :data:`ALIAS_ALLOWANCE` values beyond the
  file's own nodes, and nesting is capped at :data:`MAX_DEPTH`, so alias bombs and pathological nesting fail fast.

Example::

    >>> doc = parse_yaml_text("a:\\n  - 1\\n", "plan.yaml")
    >>> doc.data, str(doc.marks[("a", 0)])
    ({'a': [1]}, 'plan.yaml:2:5')
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Mark, PlanError, PlanIssue

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_VALUES = 2_000_000
ALIAS_ALLOWANCE = 100_000  # values aliases may add beyond the distinct nodes of the file
MAX_DEPTH = 100

Path_ = tuple[Any, ...]

# libyaml's composer when PyYAML was built with it (it is, in the wheels): same nodes and marks, faster
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


@dataclass
class YamlDoc:
    """Plain data of one YAML document plus the mark of every value by its path."""

    data: Any
    marks: dict[Path_, Mark] = field(default_factory=dict)
    file: str = ""

    def mark(self, path: Path_) -> Mark:
        """The mark of ``path``, or of its nearest ancestor that has one."""
        return mark_for(self.marks, path, self.file)


def mark_for(marks: dict[Path_, Mark], path: Path_, file: str = "") -> Mark:
    """Nearest recorded mark at or above ``path``."""
    path = tuple(path)
    while path:
        found = marks.get(path)
        if found is not None:
            return found
        path = path[:-1]
    return marks.get((), Mark(file or "<plan>", 1, 1))


def read_yaml_file(path: Path, display: str | None = None) -> YamlDoc:
    """Read and parse one YAML file, with every limit of this module enforced."""
    name = display or str(path)
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        raise PlanError(PlanIssue(Mark(name), f"cannot read the file: {exc.strerror or exc}",
                                  "check the path and the permissions")) from None
    if path.is_dir():
        raise PlanError(PlanIssue(Mark(name), "this is a directory, not a plan file",
                                  "name a .yaml file, for example scenarios/chuxiong/plan.yaml"))
    if size > MAX_FILE_BYTES:
        raise PlanError(PlanIssue(
            Mark(name), f"the file is {size / 2**20:.0f} MiB; plan files are limited to "
            f"{MAX_FILE_BYTES // 2**20} MiB", "split the plan with 'include:' or use patterns that expand"))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PlanError(PlanIssue(Mark(name), f"cannot read the file: {exc.strerror or exc}",
                                  "check the path and the permissions")) from None
    return parse_yaml_bytes(raw, name)


def parse_yaml_bytes(raw: bytes, name: str) -> YamlDoc:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = raw[: exc.start]
        line = prefix.count(b"\n") + 1
        col = len(prefix) - (prefix.rfind(b"\n") + 1) + 1
        raise PlanError(PlanIssue(Mark(name, line, col),
                                  f"byte 0x{raw[exc.start]:02x} is not valid UTF-8",
                                  "save the file as UTF-8")) from None
    return parse_yaml_text(text.lstrip("\ufeff"), name)


def parse_yaml_text(text: str, name: str) -> YamlDoc:
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise PlanError(PlanIssue(Mark(name, line, 1), "the file contains a NUL byte",
                                  "plan files are text; save the file as UTF-8 text"))
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark(name, mark.line + 1, mark.column + 1) if mark else Mark(name)
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        raise PlanError(PlanIssue(where, f"YAML syntax: {what}",
                                  "fix the indentation, quoting or brackets at this place")) from None
    except yaml.composer.ComposerError as exc:  # pragma: no cover - subsumed above
        raise PlanError(PlanIssue(Mark(name), f"YAML syntax: {exc}", "")) from None
    except RecursionError:
        raise PlanError(PlanIssue(Mark(name), "the YAML is nested too deeply",
                                  f"keep nesting under {MAX_DEPTH} levels")) from None
    except yaml.YAMLError as exc:
        raise PlanError(PlanIssue(Mark(name), f"YAML syntax: {exc}", "fix the YAML syntax")) from None
    doc = YamlDoc(data=None, file=name)
    if node is None:
        doc.data = {}
        doc.marks[()] = Mark(name, 1, 1)
        return doc
    builder = _Builder(name, doc.marks, _distinct_nodes(node))
    doc.data = builder.build(node, (), 0)
    doc.marks.setdefault((), Mark(name, 1, 1))
    return doc


def _distinct_nodes(root: yaml.Node) -> int:
    """How many distinct nodes the composed tree has (aliases share nodes)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return len(seen)


class _Builder:
    def __init__(self, name: str, marks: dict[Path_, Mark], distinct: int):
        self.name = name
        self.marks = marks
        self.count = 0
        self.limit = min(MAX_VALUES, distinct + ALIAS_ALLOWANCE)
        self.constructor = yaml.constructor.SafeConstructor()

    def _mark(self, node: yaml.Node) -> Mark:
        return Mark(self.name, node.start_mark.line + 1, node.start_mark.column + 1)

    def _fail(self, node: yaml.Node, message: str, hint: str) -> PlanError:
        return PlanError(PlanIssue(self._mark(node), message, hint))

    def build(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        self.count += 1
        if self.count > self.limit:
            raise self._fail(node, f"the document expands to more than {self.limit:,} values "
                             "(an alias bomb?)", "remove the nested aliases (*name) that multiply the data")
        if depth > MAX_DEPTH:
            raise self._fail(node, "the YAML is nested too deeply", f"keep nesting under {MAX_DEPTH} levels")
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                raise self._fail(node, f"the tag {node.tag} is not allowed", "remove the tag")
            out = []
            for index, item in enumerate(node.value):
                self.marks[path + (index,)] = self._mark(item)
                out.append(self.build(item, path + (index,), depth + 1))
            return out
        return self._scalar(node)

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag not in _SCALAR_TAGS:
            raise self._fail(node, f"the tag {node.tag} is not allowed in a plan",
                             "plans hold plain data only; remove the tag")
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value  # dates stay text: '2005-01' is a phase boundary, not a datetime
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            raise self._fail(node, f"cannot read the value {node.value!r}: {exc}", "quote it as a string") from None

    def _mapping(self, node: yaml.MappingNode, path: Path_, depth: int) -> dict:
        if node.tag != "tag:yaml.org,2002:map":
            raise self._fail(node, f"the tag {node.tag} is not allowed", "remove the tag")
        out: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, yaml.MappingNode):
                        raise self._fail(source, "a merge key '<<' takes a mapping", "merge a mapping alias like <<: *defaults")
                    for k, v in self._mapping(source, path, depth + 1).items():
                        merged.setdefault(k, v)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise self._fail(key_node, "a mapping key must be a plain name", "write the key as text")
            key = self._scalar(key_node)
            if isinstance(key, bool) or key is None:
                raise self._fail(key_node, f"the key {key_node.value!r} reads as {key!r}, not as a name",
                                 f"quote it: \"{key_node.value}\"")
            key = str(key)
            if key in out:
                raise self._fail(key_node, f"duplicate key '{key}' (first at line {self.marks[path + (key,)].line})",
                                 "remove or rename one of them")
            self.marks[path + (key,)] = self._mark(key_node)
            out[key] = self.build(value_node, path + (key,), depth + 1)
        for k, v in merged.items():
            out.setdefault(k, v)
        return out
