"""Load a plan file: read YAML safely, resolve includes, validate, expand.

``load_plan(path)`` is the one entry point. It reads the root file and every
file it includes (each confined to the root plan's scenario folder (see :func:`include_boundary`), cycles refused),
merges them section by section, validates the result against
:mod:`topology.schema` and expands it with :mod:`topology.expand`. Every
problem is collected as a :class:`~topology.errors.PlanIssue` with its file,
line and column, and all of them are raised together as a
:class:`~topology.errors.PlanError`.
Unknown keys get a "did you mean" hint (:mod:`topology.validation`).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .collector import no_gc
from .errors import IssueCollector, Mark, PlanError, PlanIssue
from .files import shown
from .model import Network
from .schema import SECTIONS_MERGED_AS_LISTS, SECTIONS_MERGED_AS_MAPS, PlanSpec
from .validation import issues_from_validation
from .yaml_source import YamlDoc, parse_yaml_text, read_yaml_file

if TYPE_CHECKING:
    from .expand import Draft

MAX_INCLUDE_DEPTH = 16
MAX_INCLUDED_FILES = 200
INCLUDE_BOUNDARY_SEARCH = 2  # how many folders above a plan may hold the plan.yaml of its scenario


def load_plan(path: str | Path) -> Network:
    """Load, validate and expand the plan at ``path``; raises PlanError.

    A folder holding a ``plan.yaml`` names that plan.
    """
    from .expand import expand_plan

    with no_gc():  # millions of objects and no cycles: collections would scan the growing model again and again
        spec, marks, root, sources = read_plan(path)
        return replace(expand_plan(spec, marks, root), sources=sources)


def load_spec(path: str | Path) -> tuple[PlanSpec, dict, Path]:
    """Read and validate a plan without expanding it: (spec, marks, root file)."""
    spec, marks, root, _ = read_plan(path)
    return spec, marks, root


def plan_file(path: str | Path) -> Path:
    """The plan file ``path`` names: itself, or the ``plan.yaml`` of a scenario folder."""
    given = Path(path)
    if given.is_dir() and (given / "plan.yaml").is_file():
        return given / "plan.yaml"
    return given


def read_plan(path: str | Path) -> tuple[PlanSpec, dict, Path, tuple[str, ...]]:
    """(spec, marks, root file, every file read) of the plan at ``path``; raises PlanError."""
    root = plan_file(path)
    reader = _Reader(include_boundary(root))
    data, marks = reader.read(root, shown(root), ())
    if not isinstance(data, dict):
        raise PlanError(PlanIssue(marks.get((), Mark(shown(root))), "a plan must be a mapping of sections",
                                  "start the file with 'name: ...' and sections like 'nodes:'"))
    try:
        spec = PlanSpec.model_validate(data)
    except ValidationError as exc:
        raise PlanError(issues_from_validation(exc, marks, shown(root), PlanSpec)) from None
    return spec, marks, root, tuple(reader.order)


def spec_of_text(text: str, name: str = "plan.yaml") -> tuple[PlanSpec, dict]:
    """(spec, marks) of a plan written in ``text`` (no includes); raises PlanError."""
    doc = parse_yaml_text(text, name)
    if not isinstance(doc.data, dict):
        raise PlanError(PlanIssue(doc.marks.get((), Mark(name)), "a plan must be a mapping of sections",
                                  "start the file with 'name: ...' and sections like 'nodes:'"))
    try:
        return PlanSpec.model_validate(doc.data), dict(doc.marks)
    except ValidationError as exc:
        raise PlanError(issues_from_validation(exc, doc.marks, name, PlanSpec)) from None


def load_text(text: str, name: str = "plan.yaml") -> Network:
    """The network of a plan written in ``text`` (no includes), as :func:`load_plan` gives it; raises PlanError.

    >>> net = load_text('''
    ... name: demo
    ... domains: {政务外网: {kind: extranet}}
    ... sites: {楚雄州: {level: prefecture}}
    ... nodes: {州核心: {role: core_router, domain: 政务外网, site: 楚雄州}}
    ... ''')
    >>> net.name, list(net.nodes)
    ('demo', ['州核心'])
    """
    from .expand import expand_plan

    spec, marks = spec_of_text(text, name)
    return expand_plan(spec, marks, name)


def draft_of(text: str, name: str = "plan.yaml") -> Draft:
    """A fresh expansion draft of the plan written in ``text`` (validated, not expanded): for the examples of the
    passes of :mod:`topology.expand` and for tests."""
    from .expand import Draft

    spec, marks = spec_of_text(text, name)
    return Draft.start(spec, marks, name)


def include_boundary(plan: Path) -> Path:
    """The folder includes must stay in: the plan's own, or that of the nearest ``plan.yaml`` above it.

    A variant in ``scenarios/x/faults/`` may so include the parts of ``scenarios/x/``,
    while no plan reaches outside its scenario.
    """
    folder = plan.resolve().parent
    for candidate in [folder, *list(folder.parents)[:INCLUDE_BOUNDARY_SEARCH]]:
        if (candidate / "plan.yaml").is_file():
            return candidate
    return folder


def _child_display(parent: str, name: str, target: Path) -> str:
    """How an included file is named: reached from the including file's shown name when that is relative
    (``faults/v.yaml`` including ``../parts/a.yaml`` shows ``parts/a.yaml``), else from its own path."""
    if os.path.isabs(parent):
        return shown(target)
    return shown(os.path.join(os.path.dirname(parent), name))


class _Reader:
    """Reads a plan and its includes, each file once: a file included a second time (from anywhere) is an
    error at that include, so the include graph is a tree and reading it costs what the files hold."""

    def __init__(self, base: Path):
        self.base = base
        self.docs: dict[Path, YamlDoc] = {}
        self.first: dict[Path, Mark] = {}  # where each file was first included
        self.order: list[str] = []  # every file read, resolved, in the order first read

    def _doc(self, path: Path, display: str) -> YamlDoc:
        key = path.resolve()
        doc = self.docs.get(key)
        if doc is None:
            doc = self.docs[key] = read_yaml_file(path, display)
            self.order.append(str(key))
        return doc

    def read(self, path: Path, display: str, stack: tuple[Path, ...]) -> tuple[Any, dict]:
        doc = self._doc(path, display)
        data, marks = doc.data, dict(doc.marks)
        if not isinstance(data, dict) or "include" not in data:
            return data, marks
        includes = data.get("include")
        if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
            return data, marks  # the schema reports the wrong type with its position
        resolved_self = path.resolve()
        issues = IssueCollector()
        for index, name in enumerate(includes):
            where = doc.mark(("include", index))
            try:
                target = (path.parent / name).resolve()
                is_file = target.is_file()
            except (OSError, ValueError) as exc:
                issues.add(where, f"include '{name[:80]}' cannot be a file name here ({_os_reason(exc)})",
                           "give the name of a file in the plan's folder")
                continue
            try:
                target.relative_to(self.base)
            except ValueError:
                issues.add(where, f"include '{name}' leaves the plan's folder {self.base.name}/",
                           "includes must stay inside the folder of the root plan; copy the file there")
                continue
            if target == resolved_self or target in stack:
                issues.add(where, f"include '{name}' forms a cycle", "remove the include that leads back to this file")
                continue
            if len(stack) >= MAX_INCLUDE_DEPTH:
                issues.add(where, "includes are nested too deeply", f"nest includes at most {MAX_INCLUDE_DEPTH} deep")
                continue
            if not is_file:
                issues.add(where, f"include '{name}' does not exist", "check the file name; paths are relative to this file")
                continue
            if target in self.first:
                issues.add(where, f"'{name}' is already included (at {self.first[target]})",
                           "include each file once; its sections then hold for the whole plan")
                continue
            self.first[target] = where
            if len(self.docs) >= MAX_INCLUDED_FILES:
                issues.add(where, f"the plan includes more than {MAX_INCLUDED_FILES} files", "merge some parts")
                continue
            try:
                sub, sub_marks = self.read(target, _child_display(display, name, target), stack + (resolved_self,))
            except PlanError as exc:
                issues.extend(exc.issues)
                continue
            if not isinstance(sub, dict):
                issues.add(sub_marks.get((), Mark(shown(target))), "an included file must be a mapping of plan sections",
                           "write sections such as 'nodes:' at the top level")
                continue
            _merge_into(data, marks, sub, sub_marks, issues)
        issues.raise_if_any()
        return data, marks


def _os_reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _merge_into(data: dict, marks: dict, sub: dict, sub_marks: dict, issues: IssueCollector) -> None:
    under = _marks_by_head(sub_marks)
    for section, value in sub.items():
        if section == "include":
            continue
        here = sub_marks.get((section,), Mark("<include>"))
        if section in SECTIONS_MERGED_AS_MAPS and isinstance(value, dict):
            target = data.setdefault(section, {})
            marks.setdefault((section,), here)
            if not isinstance(target, dict):
                continue
            for key, item in value.items():
                if key in target:
                    first = marks.get((section, key))
                    issues.add(sub_marks.get((section, key), here), f"'{key}' in {section} is defined twice"
                               + (f" (first at {first})" if first else ""), "rename one of them or remove the duplicate")
                    continue
                target[key] = item
                _copy_marks(marks, under, (section, key), (section, key))
        elif section in SECTIONS_MERGED_AS_LISTS and isinstance(value, list):
            target = data.setdefault(section, [])
            marks.setdefault((section,), here)
            if not isinstance(target, list):
                continue
            offset = len(target)
            target.extend(value)
            for index in range(len(value)):
                _copy_marks(marks, under, (section, index), (section, offset + index))
        elif section in data:
            issues.add(here, f"section '{section}' is set both here and in the including plan",
                       "set it in one file only")
        else:
            data[section] = value
            marks.update((path, mark) for path, mark in sub_marks.items() if path[:1] == (section,))


def _marks_by_head(sub_marks: dict) -> dict[tuple, list[tuple[tuple, Any]]]:
    """The marks of an included file grouped by the first two steps of their paths: each merged entry then
    copies only its own marks, in time linear in the file (a scan of every mark per entry is quadratic)."""
    out: dict[tuple, list[tuple[tuple, Any]]] = {}
    for path, mark in sub_marks.items():
        out.setdefault(path[:2], []).append((path, mark))
    return out


def _copy_marks(marks: dict, under: dict, src_prefix: tuple, dst_prefix: tuple) -> None:
    """Copy the marks under the two-step ``src_prefix`` (grouped by :func:`_marks_by_head`) to ``dst_prefix``."""
    n = len(src_prefix)
    for path, mark in under.get(src_prefix, ()):
        marks[dst_prefix + path[n:]] = mark
