"""A plan named on the command line: a file, or ``REV:path``, the plan as a git revision holds it.

Definition. ``REV:path`` is git's own notation (``git show main:scenarios/x/plan.yaml``):
``path`` is relative to the top of the work tree, or to the current folder when it
starts with ``./`` or ``../``; a folder names its ``plan.yaml``. The plan is read
from git objects with every file its includes and policies may reach (the YAML
files of its include boundary, :func:`topology.loader.include_boundary`, decided
on the revision's tree exactly as on disk), copied into a private temporary
folder; the work tree, the index and HEAD are never touched, so this works with
uncommitted changes and without checking anything out. Messages name those
files as ``REV:path``.

A name that is an existing file is always that file, even when it contains a
colon.

Why by hand: git's plumbing (``ls-tree``, ``cat-file --batch``) is the stable
interface to a repository's objects; no well-kept Python library reads them
without a C extension or a work tree of its own.

    >>> import subprocess, tempfile, pathlib
    >>> repo = pathlib.Path(tempfile.mkdtemp())
    >>> git = lambda *a: subprocess.run(["git", "-C", str(repo), *a], check=True, capture_output=True)
    >>> _ = git("init", "-q"); (repo / "p").mkdir()
    >>> _ = (repo / "p" / "plan.yaml").write_text("name: 旧\\ninclude: [part.yaml]\\n", encoding="utf-8")
    >>> _ = (repo / "p" / "part.yaml").write_text("nodes: {}\\n", encoding="utf-8")
    >>> _ = git("add", "."); _ = git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
    >>> with plan_at("HEAD:p", cwd=repo) as plan:
    ...     plan.label, plan.path.read_text(encoding="utf-8").splitlines()[0], plan.name(plan.path.parent / "part.yaml")
    ('HEAD:p/plan.yaml', 'name: 旧', 'HEAD:p/part.yaml')
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .errors import GovnetError
from .files import shown
from .loader import INCLUDE_BOUNDARY_SEARCH

PLAN_SUFFIXES = (".yaml", ".yml")
GIT_TIMEOUT = 120.0


class RevisionError(GovnetError):
    """``REV:path`` names no plan: not a git work tree, an unknown revision, no such file in it."""


@dataclass(frozen=True)
class PlanAt:
    """Where to load a named plan from (``path``), what to call it (``label``) and its files (:meth:`name`)."""

    path: Path
    label: str
    revision: str | None = None
    root: Path | None = None  # the temporary copy of the revision's files
    _rename: dict[str, str] = field(default_factory=dict, repr=False)

    def name(self, file: str | Path) -> str:
        """How messages name ``file``: ``REV:path`` for a file of the revision, else as :func:`shown` does."""
        if self.root is not None:
            try:
                inside = Path(os.path.realpath(file)).relative_to(os.path.realpath(self.root))
            except ValueError:
                return shown(file)
            return f"{self.revision}:{PurePosixPath(*inside.parts)}"
        return shown(file)


@contextmanager
def plan_at(spec: str, cwd: str | Path | None = None) -> Iterator[PlanAt]:
    """The plan ``spec`` names (see the module docstring); a revision's copy is removed on exit."""
    here = Path(cwd) if cwd is not None else Path.cwd()
    given = here / spec
    if given.exists() or ":" not in spec:
        yield PlanAt(Path(spec) if cwd is None else given, shown(spec))
        return
    revision, rel = spec.split(":", 1)
    if not revision:
        raise RevisionError(f"'{spec}': no revision before ':' (write REV:path, for example main:{rel})")
    top = Path(_git(here, "rev-parse", "--show-toplevel", what=f"'{spec}' names a git revision",
                    hint="run govnet inside the git work tree, or name a plan file").strip())
    path = _repo_path(here, top, rel)
    kind = _git(top, "cat-file", "-t", f"{revision}:{path}", what=f"'{spec}'",
                hint="the path is from the top of the work tree (./ for the current folder); "
                     f"'git ls-tree -r --name-only {revision}' lists the revision's files").strip() if path else "tree"
    if kind == "tree":
        path = str(PurePosixPath(path) / "plan.yaml") if path else "plan.yaml"
    names = _git(top, "ls-tree", "-r", "-z", "--name-only", revision, what=f"revision '{revision}'",
                 hint="name a branch, a tag or a commit").split("\0")
    files = {n for n in names if n}
    if path not in files:
        raise RevisionError(f"'{spec}': revision {revision} has no file {path}; name a plan file or a folder "
                            "holding a plan.yaml")
    boundary = _boundary(files, PurePosixPath(path))
    wanted = sorted(n for n in files if _under(PurePosixPath(n), boundary) and n.endswith(PLAN_SUFFIXES))
    root = Path(tempfile.mkdtemp(prefix="govnet-rev-"))
    try:
        _extract(top, revision, wanted, root)
        yield PlanAt(root / path, f"{revision}:{path}", revision, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _repo_path(here: Path, top: Path, rel: str) -> str:
    """``rel`` as a path from the top of the work tree (git's rule: ``./`` and ``../`` are from ``here``)."""
    if rel.startswith(("./", "../")) or rel in (".", ".."):
        absolute = Path(os.path.normpath(here.resolve() / rel))
        try:
            inside = absolute.relative_to(top.resolve())
        except ValueError:
            raise RevisionError(f"'{rel}' lies outside the git work tree {top}") from None
        return "" if str(inside) == "." else str(PurePosixPath(*inside.parts))
    return str(PurePosixPath(os.path.normpath(rel))).strip("/") if rel not in ("", "/") else ""


def _boundary(files: set[str], plan: PurePosixPath) -> PurePosixPath:
    """The folder includes of ``plan`` must stay in, decided on the revision's file list as on disk."""
    folder = plan.parent
    for candidate in [folder, *list(folder.parents)[:INCLUDE_BOUNDARY_SEARCH]]:
        if str(candidate / "plan.yaml") in files or (str(candidate) == "." and "plan.yaml" in files):
            return candidate
    return folder


def _under(path: PurePosixPath, folder: PurePosixPath) -> bool:
    return str(folder) == "." or folder in path.parents


def _extract(top: Path, revision: str, names: list[str], root: Path) -> None:
    """Write the blobs ``revision:name`` below ``root`` (one ``git cat-file --batch``)."""
    request = "".join(f"{revision}:{n}\n" for n in names).encode("utf-8")
    try:
        done = subprocess.run(["git", "-C", str(top), "cat-file", "--batch"], input=request, capture_output=True,
                              timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RevisionError(f"cannot read revision {revision}: {exc}") from None
    out, at = done.stdout, 0
    for name in names:
        end = out.index(b"\n", at)
        header = out[at:end].split()
        if len(header) != 3:
            raise RevisionError(f"cannot read {revision}:{name} from git")
        size = int(header[2])
        blob = out[end + 1:end + 1 + size]
        at = end + 1 + size + 1
        target = root.joinpath(*PurePosixPath(name).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob)


def _git(cwd: Path, *args: str, what: str, hint: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, timeout=GIT_TIMEOUT,
                              check=False)
    except FileNotFoundError:
        raise RevisionError(f"{what}, but git is not installed") from None
    except subprocess.TimeoutExpired:
        raise RevisionError(f"{what}: git did not answer in {GIT_TIMEOUT:.0f} s") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["git failed"])[-1]
        raise RevisionError(f"{what}: {reason.removeprefix('fatal: ')}; {hint}")
    return done.stdout


__all__ = ["PlanAt", "RevisionError", "plan_at"]
