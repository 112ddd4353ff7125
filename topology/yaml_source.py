"""Safe YAML reading that remembers where every value came from.

PyYAML's ``safe_load`` forgets positions, silently keeps the last of two
duplicate keys and happily expands an alias bomb into gigabytes. Plans are
written by hand and every error must name a file, line and column, so this
module builds plain Python data straight from libyaml's parser events,
recording a :class:`~topology.errors.Mark` for every mapping key and sequence
item, and counting values as they come (no node tree is built, which would
cost seconds and hundreds of MiB on a large file before any limit could be
checked). No library offers this (ruamel keeps marks but not the limits),
hence the hand-written walk.

Guarantees:
- only plain data (mappings, sequences, strings, numbers, booleans, null);
  no tag ever constructs an object, so loading never runs code;
- files above :data:`MAX_FILE_BYTES` are refused before they are read;
- bytes that are not UTF-8 are reported with their line and column;
- duplicate keys are errors;
- a file holds at most :data:`MAX_VALUES` values, aliases counted as they
  expand, and nesting is capped at :data:`MAX_DEPTH`, so alias bombs, huge
  files and pathological nesting fail fast;
- texts are printable: control characters (but tab and line breaks in
  texts) and bidirectional overrides are errors, so no name can carry a
  terminal escape or break an XML report.

Example::

    >>> doc = parse_yaml_text("a:\\n  - 1\\n", "plan.yaml")
    >>> doc.data, str(doc.marks[("a", 0)])
    ({'a': [1]}, 'plan.yaml:2:5')
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Mark, PlanError, PlanIssue

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_VALUES = int(os.environ.get("GOVNET_MAX_VALUES", "100000"))  # values of one file, aliases expanded
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
    doc = YamlDoc(data=None, file=name)
    builder = _Builder(name)
    try:
        data = builder.build(yaml.parse(text, Loader=_LOADER))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark(name, mark.line + 1, mark.column + 1) if mark else Mark(name)
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        raise PlanError(PlanIssue(where, f"YAML syntax: {what}",
                                  "fix the indentation, quoting or brackets at this place")) from None
    except yaml.YAMLError as exc:
        raise PlanError(PlanIssue(Mark(name), f"YAML syntax: {exc}", "fix the YAML syntax")) from None
    doc.marks.update(builder.marks)
    doc.data = {} if data is _EMPTY else data
    doc.marks.setdefault((), Mark(name, 1, 1))
    return doc


_EMPTY = object()
_AS_TEXT = frozenset({"tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:merge"})
# C0 and C1 controls (tab, line feed and carriage return pass in texts), line and paragraph separators,
# and the bidirectional overrides that make a name read differently from what it is
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_KEY_CONTROL = re.compile("[\t\n\r]")


@dataclass
class _Frame:
    """A mapping or sequence being built."""

    data: Any
    path: Path_
    anchor: str | None
    first_mark: int  # index into the builder's list of marks where this node's marks begin
    values: int  # values counted before this node began
    key: Any = None
    has_key: bool = False
    merging: bool = False
    merges: list = field(default_factory=list)


class _Builder:
    """Plain data and marks from YAML parser events (no node tree is built).

    Working on the event stream keeps the cost of a file bounded by what it
    holds: the count of values (aliases included, as they expand) is checked
    as the events come, so an oversized or alias-bombed file stops early.
    """

    def __init__(self, name: str):
        self.name = name
        self.marks: dict[Path_, Mark] = {}
        self._marks: list[tuple[Path_, Mark]] = []
        self.count = 0
        self.limit = MAX_VALUES
        self.anchors: dict[str, tuple[Any, list[tuple[Path_, Mark]], int]] = {}
        self.constructor = yaml.constructor.SafeConstructor()
        self.resolver = yaml.resolver.Resolver()

    def _mark(self, event: yaml.Event) -> Mark:
        return Mark(self.name, event.start_mark.line + 1, event.start_mark.column + 1)

    def _fail(self, event: yaml.Event, message: str, hint: str) -> PlanError:
        return PlanError(PlanIssue(self._mark(event), message, hint))

    def _count(self, event: yaml.Event, n: int = 1) -> None:
        self.count += n
        if self.count > self.limit:
            raise self._fail(event, f"the document holds more than {self.limit:,} values (an alias bomb, or data "
                             "that belongs in patterns?)", "describe repeated units with stars, generate and templates"
                             f"; the limit is GOVNET_MAX_VALUES={self.limit}")

    def build(self, events: Any) -> Any:
        stack: list[_Frame] = []
        result: Any = _EMPTY
        documents = 0
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise self._fail(event, "the file holds more than one YAML document", "keep one plan per file")
                continue
            if isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)):
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                value = frame.data
                if isinstance(value, dict) and frame.merges:
                    for source in frame.merges:
                        for k, v in source.items():
                            value.setdefault(k, v)
                self._anchor(frame.anchor, value, frame.first_mark, frame.path, self.count - frame.values + 1)
                result = self._attach(stack, value, event) if stack else value
                continue
            path = self._child_path(stack, event)
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                mapping = isinstance(event, yaml.MappingStartEvent)
                if event.tag not in (None, "!", "tag:yaml.org,2002:map" if mapping else "tag:yaml.org,2002:seq"):
                    raise self._fail(event, f"the tag {event.tag} is not allowed", "remove the tag")
                if len(stack) >= MAX_DEPTH:
                    raise self._fail(event, "the YAML is nested too deeply", f"keep nesting under {MAX_DEPTH} levels")
                self._count(event)
                stack.append(_Frame({} if mapping else [], path, event.anchor, len(self._marks), self.count))
                continue
            if isinstance(event, yaml.AliasEvent):
                found = self.anchors.get(event.anchor)
                if found is None:
                    raise self._fail(event, f"the alias *{event.anchor} names no anchor", "define &name before *name")
                value, marks, size = found
                self._count(event, size)
                if not (stack and isinstance(stack[-1].data, dict) and not stack[-1].has_key):
                    self._marks.extend((path + rel, m) for rel, m in marks)
                result = self._attach(stack, value, event) if stack else value
                continue
            value = self._scalar(event)
            if stack and isinstance(stack[-1].data, dict) and not stack[-1].has_key:
                self._key(stack[-1], value, event)
                continue
            self._count(event)
            self._anchor(event.anchor, value, len(self._marks), path, 1)
            result = self._attach(stack, value, event) if stack else value
        for path, mark in self._marks:
            self.marks[path] = mark
        return result

    def _child_path(self, stack: list[_Frame], event: yaml.Event) -> Path_:
        """The path of the node ``event`` starts (recording its mark), given where the parent stands."""
        if not stack:
            return ()
        frame = stack[-1]
        if isinstance(frame.data, list):
            path = frame.path + (len(frame.data),)
            self._marks.append((path, self._mark(event)))
            return path
        if frame.has_key:
            return frame.path + (frame.key,) if not frame.merging else frame.path + ("<<",)
        return frame.path  # a key

    def _anchor(self, anchor: str | None, value: Any, first: int, path: Path_, size: int) -> None:
        if anchor is None:
            return
        n = len(path)
        self.anchors[anchor] = (value, [(p[n:], m) for p, m in self._marks[first:] if p[:n] == path], size)

    def _key(self, frame: _Frame, key: Any, event: yaml.Event) -> None:
        if event.tag is None and event.value == "<<" and event.implicit[0]:
            frame.key, frame.has_key, frame.merging = "<<", True, True
            return
        if isinstance(key, bool) or key is None:
            raise self._fail(event, f"the key {event.value!r} reads as {key!r}, not as a name",
                             f"quote it: \"{event.value}\"")
        if isinstance(key, (list, dict)):
            raise self._fail(event, "a mapping key must be a plain name", "write the key as text")
        key = str(key)
        if _KEY_CONTROL.search(key):
            raise self._fail(event, f"the key {key!r} holds a tab or line break", "write names on one line")
        if key in frame.data:
            first = self.marks.get(frame.path + (key,)) or next(m for p, m in self._marks if p == frame.path + (key,))
            raise self._fail(event, f"duplicate key '{key}' (first at line {first.line})",
                             "remove or rename one of them")
        self._marks.append((frame.path + (key,), self._mark(event)))
        frame.key, frame.has_key = key, True

    def _attach(self, stack: list[_Frame], value: Any, event: yaml.Event) -> Any:
        frame = stack[-1]
        if isinstance(frame.data, list):
            frame.data.append(value)
        elif frame.merging:
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(x, dict) for x in sources):
                raise self._fail(event, "a merge key '<<' takes a mapping", "merge a mapping alias like <<: *defaults")
            frame.merges.extend(sources)
            n = len(frame.path) + 1
            self._marks.extend([(frame.path + p[n:], m) for p, m in self._marks if p[:n] == frame.path + ("<<",)])
            frame.has_key = frame.merging = False
        else:
            frame.data[frame.key] = value
            frame.has_key = False
        return value

    def _scalar(self, event: yaml.ScalarEvent) -> Any:
        tag = event.tag
        if tag in (None, "!"):
            tag = self.resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag not in _SCALAR_TAGS and tag != "tag:yaml.org,2002:merge":
            raise self._fail(event, f"the tag {tag} is not allowed in a plan",
                             "plans hold plain data only; remove the tag")
        bad = _CONTROL.search(event.value)
        if bad:
            raise self._fail(event, f"the text holds the control character U+{ord(bad.group()):04X}",
                             "names and texts must be printable; remove it")
        if tag in _AS_TEXT:
            return event.value  # text as written; dates stay text: '2005-01' is a phase boundary
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            raise self._fail(event, f"cannot read the value {event.value!r}: {exc}", "quote it as a string") from None
