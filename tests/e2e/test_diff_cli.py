"""``govnet diff`` as a user runs it: two files, ``REV:path`` from a git repository, exit codes, bad input."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import SCENARIOS, run_cli

FAULT = "faults/firewall-hole.yaml"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository holding the Chuxiong scenario, committed, with the fault's hole then written into the
    work tree's base ACL (uncommitted)."""
    root = tmp_path / "repo"
    shutil.copytree(SCENARIOS / "chuxiong", root / "chuxiong")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "base")
    acl = root / "chuxiong" / "parts" / "acl-internet.yaml"
    text = acl.read_text(encoding="utf-8")
    hole = "    - {action: permit, proto: tcp, dst: 10.53.0.0/16, dport: 3389}\n"
    acl.write_text(text.replace("    - {action: deny, description: 其余一律拒绝}", hole.rstrip("\n") +
                                "\n    - {action: deny, description: 其余一律拒绝}"), encoding="utf-8")
    return root


def test_a_revision_against_the_work_tree_finds_the_hole_and_exits_1(repo: Path) -> None:
    before = (repo / "chuxiong" / "parts" / "acl-internet.yaml").read_bytes()
    done = run_cli("diff", "HEAD:chuxiong/plan.yaml", "chuxiong/plan.yaml", cwd=repo)
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert "govnet diff HEAD:chuxiong/plan.yaml → chuxiong/plan.yaml" in out
    assert "ACL 防火墙-互联网侧入#5 added (permit tcp 0.0.0.0/0 -> 10.53.0.0/16 dport 3389)" in out
    assert "(chuxiong/parts/acl-internet.yaml:10:7)" in out  # NEW's line of the rule
    assert "NEW FAILURE EGOV-LI-1: pass → fail" in out
    assert "newly allowed UNAPPROVED: 互联网 → 政务外网" in out and "DELIVERED" in out
    assert (repo / "chuxiong" / "parts" / "acl-internet.yaml").read_bytes() == before  # inputs untouched
    status = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True)
    assert status.stdout.split() == ["M", "chuxiong/parts/acl-internet.yaml"]  # nothing checked out or written


def test_json_names_the_revisions_files_and_is_byte_identical(repo: Path) -> None:
    args = ("diff", "chuxiong/plan.yaml", "HEAD:chuxiong/plan.yaml", "--format", "json", "--failures", "none")
    first, second = run_cli(*args, cwd=repo), run_cli(*args, cwd=repo)
    assert first.returncode == 0, first.stderr  # closing the hole regresses nothing
    assert first.stdout == second.stdout
    data = json.loads(first.stdout)
    assert data["regresses"] is False and data["new_failures"] == 0
    removed = [c for c in data["model"] if c["action"] == "removed"]
    assert removed and removed[0]["at"]["file"] == "chuxiong/parts/acl-internet.yaml"  # OLD = the work tree here
    blocked = [r for r in data["reachability"] if r["direction"] == "blocked"]
    assert blocked and all(r["packet"]["dport"] == 3389 for r in blocked)
    assert {v["rule"]: (v["old"], v["new"]) for v in data["verdicts"]}["EGOV-LI-1"] == ("fail", "pass")


def test_two_identical_versions_differ_in_nothing(repo: Path) -> None:
    done = run_cli("diff", "HEAD:chuxiong", "HEAD:chuxiong/plan.yaml", "--failures", "none", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert "model: no change" in done.stdout and "verdicts: no change" in done.stdout
    assert "reachability across boundaries: no change" in done.stdout


def test_the_shipped_fault_against_its_base(tmp_path: Path) -> None:
    done = run_cli("diff", SCENARIOS / "chuxiong" / "plan.yaml", SCENARIOS / "chuxiong" / FAULT, "--failures", "none")
    assert done.returncode == 1 and "NEW FAILURE EGOV-LI-1" in done.stdout


@pytest.mark.parametrize(("old", "message"), [
    ("nosuchrev:chuxiong/plan.yaml", "nosuchrev"),
    ("HEAD:chuxiong/nothere.yaml", "does not exist in 'HEAD'; the path is from the top of the work tree"),
    (":chuxiong/plan.yaml", "no revision before ':'"),
])
def test_bad_revisions_are_bad_input(repo: Path, old: str, message: str) -> None:
    done = run_cli("diff", old, "chuxiong/plan.yaml", cwd=repo)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_revision_outside_a_git_work_tree_is_bad_input(tmp_path: Path) -> None:
    done = run_cli("diff", "HEAD:plan.yaml", SCENARIOS / "chuxiong" / "plan.yaml", cwd=tmp_path)
    assert done.returncode == 2 and "git" in done.stderr and "Traceback" not in done.stderr


def test_the_output_may_not_overwrite_an_input(repo: Path) -> None:
    target = repo / "chuxiong" / "plan.yaml"
    before = target.read_bytes()
    done = run_cli("diff", "HEAD:chuxiong/plan.yaml", "chuxiong/plan.yaml", "-o", "chuxiong/plan.yaml", cwd=repo)
    assert done.returncode == 2 and target.read_bytes() == before


GITHUB_LINE = re.compile(r"^::(error|warning|notice) file=([^,]+),line=(\d+),col=(\d+),title=([^:]+)::(.+)$")


def test_github_and_gitlab_point_at_the_new_lines(repo: Path) -> None:
    done = run_cli("diff", "HEAD:chuxiong/plan.yaml", "chuxiong/plan.yaml", "--format", "github", "--failures", "none",
                   cwd=repo)
    assert done.returncode == 1, done.stderr
    *commands, summary = done.stdout.splitlines()
    parsed = [GITHUB_LINE.match(line) for line in commands]
    assert commands and all(parsed), commands
    assert {m.group(5) for m in parsed if m} == {"EGOV-LI-1", "GOVNET-DIFF-CROSSING"}
    for m in parsed:
        assert m is not None
        line = (repo / m.group(2)).read_text(encoding="utf-8").splitlines()[int(m.group(3)) - 1]
        assert "3389" in line  # the planted rule's line in the work tree
    assert summary.startswith("govnet diff: the change adds 1 failing rule and 1 unapproved crossing")
    gitlab = run_cli("diff", "HEAD:chuxiong/plan.yaml", "chuxiong/plan.yaml", "--format", "gitlab", "--failures",
                     "none", cwd=repo)
    issues = json.loads(gitlab.stdout)
    assert gitlab.returncode == 1 and {i["check_name"] for i in issues} == {"EGOV-LI-1", "GOVNET-DIFF-CROSSING"}
    assert all(i["location"] == {"path": "chuxiong/parts/acl-internet.yaml", "lines": {"begin": 10}} for i in issues)
