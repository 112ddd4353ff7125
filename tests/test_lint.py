"""The tree is ruff- and mypy-clean, with the settings of ``pyproject.toml``.

Both tools are pinned in the ``test`` extra, so a new release cannot change
the verdict of an unchanged tree. They run as the developer runs them, from
the repository's root, in the test environment's Python.
"""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import REPO


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, check=False,
                          timeout=900)


def test_ruff_finds_nothing() -> None:
    done = _run("ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_finds_nothing() -> None:
    done = _run("mypy")  # the packages and options of [tool.mypy]
    assert done.returncode == 0, done.stdout + done.stderr
