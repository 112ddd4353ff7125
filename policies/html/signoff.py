"""The sign-off page (审核结论): exactly which plan was checked, with what, and the verdict of every rule.

Definitions.

- The *files* of a plan are every file it was read from (the plan and its
  includes, :attr:`topology.model.Network.sources`) and every policy file that
  is not a built-in pack, each with its SHA-256, so the signed report names
  one version of the plan and no other.
- The *work tree* state: when the plan's folder lies inside a git work tree,
  its commit (``HEAD``), whether the tree is clean, and which files of the
  plan are not committed as read (changed or untracked); nothing when git or a
  work tree is absent.
- The *verdict* of a rule in a run is its status; the page shows one row per
  rule and one column per checked phase. The *conclusion* is ``fail`` when
  some rule at or above the ``--fail-on`` severity fails unwaived in some
  phase, ``pass`` otherwise.

    >>> sha256_of(__file__) == sha256_of(__file__)
    True
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from topology.files import shown

from ..engine import CheckRun, blocking
from ..i18n import rule_text
from ..loader import Policy

GIT_TIMEOUT = 10.0  # seconds a git query may take


@dataclass(frozen=True)
class TreeState:
    """The git work tree a plan lies in: its commit, whether it is clean, the plan's files not committed."""

    commit: str
    clean: bool
    changed: tuple[str, ...]


def sha256_of(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def plan_files(sources: tuple[str, ...], policies: tuple[Policy, ...]) -> list[dict[str, str]]:
    """Every file of the check as ``{"file", "sha256", "role"}``: the plan's files, then the policy files."""
    out = [{"file": shown(f), "sha256": sha256_of(f), "role": "plan" if i == 0 else "include"}
           for i, f in enumerate(sources)]
    out += [{"file": shown(p.file), "sha256": sha256_of(p.file), "role": "policy"}
            for p in policies if not p.pack and p.file]
    return out


def tree_state(files: list[str]) -> TreeState | None:
    """The git work tree holding the first of ``files``, or None (no git, no work tree, git failing)."""
    git = shutil.which("git")
    if git is None or not files:
        return None
    folder = Path(files[0]).resolve().parent

    def run(*args: str) -> str | None:
        try:
            done = subprocess.run([git, "-C", str(folder), *args], capture_output=True, text=True,
                                  timeout=GIT_TIMEOUT, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    top = run("rev-parse", "--show-toplevel")
    commit = run("rev-parse", "HEAD")
    status = run("status", "--porcelain", "--untracked-files=normal")
    if not top or not commit or status is None:
        return None
    root = Path(top.strip()).resolve()
    dirty = {line[3:].strip().strip('"') for line in status.splitlines() if len(line) > 3}
    changed = []
    for f in files:
        try:
            rel = Path(f).resolve().relative_to(root).as_posix()
        except ValueError:
            continue
        if rel in dirty or any(rel.startswith(d.rstrip("/") + "/") for d in dirty if d.endswith("/")):
            changed.append(shown(f))
    return TreeState(commit.strip(), not dirty, tuple(changed))


def conclusion(runs: list[CheckRun], fail_on: str) -> str:
    """``fail`` when a rule at or above ``fail_on`` fails unwaived in some run, else ``pass``."""
    return "fail" if any(blocking(run.results, fail_on) for run in runs) else "pass"


def verdict_table(runs: list[CheckRun], lang: str) -> list[dict[str, Any]]:
    """One row per rule (in check order): its texts and its status in each run, with why it did not apply."""
    rows: dict[str, dict[str, Any]] = {}
    for column, run in enumerate(runs):
        for result in run.results:
            rule = result.rule
            row = rows.setdefault(rule.id, {
                "id": rule.id, "pack": rule.pack or "", "severity": rule.severity, "kind": rule.kind,
                "title": rule_text(rule, "title", lang) or rule.id,
                "description": rule_text(rule, "description", lang), "clause": rule.clause,
                "cells": [None] * len(runs),
            })
            row["cells"][column] = {"status": result.status, "message": result.message}
    return list(rows.values())


def pack_rows(policies: tuple[Policy, ...]) -> list[dict[str, Any]]:
    """The packs and policy files of the check with their titles and rule ids."""
    return [{"name": p.name, "source": p.source, "pack": p.pack, "title": p.title or "",
             "rules": [r.id for r in p.rules]} for p in policies]
