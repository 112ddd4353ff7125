"""The wheel works without the source tree: built, installed outside the repository, run there.

The build inputs are copied to a temporary folder first (setuptools writes
``build/`` and ``*.egg-info`` beside the sources, never into the work tree
here) and built offline with the environment's setuptools (the ``test``
extra installs it): ``pip wheel --no-deps --no-build-isolation --no-index``.
The wheel is installed with ``pip install --no-deps --target`` into a folder
of its own; the dependencies come from the test environment. govnet then runs
from a folder outside the repository with that folder as ``PYTHONPATH`` and
every way back into the source tree removed (its entries of ``sys.path`` and
an editable install's import hook): a module loaded from the repository
fails the run. ``govnet check`` without a plan must find the default
scenario in the wheel's package data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import REPO, SCENARIOS

PACKAGES = ("topology", "simulator", "policies", "govnet")
BUILD_INPUTS = ("setup.py", "pyproject.toml", "README.md", *PACKAGES, "scenarios")
PLAN_NAME = "楚雄州电子政务外网"

# Runs govnet as `python -m govnet ARGS` with no way back into the source tree (the repository's
# folder on sys.path, an editable install's import hook); exits 99 when a module of the packages
# or of scenarios/ was loaded from the tree, or a module of the packages from outside SITE.
# argv: REPO SITE ARGS...
RUNNER = r"""
import atexit, os, runpy, sys
repo, site = (os.path.realpath(p) for p in sys.argv[1:3])
del sys.argv[1:3]
OWN = ("topology", "simulator", "policies", "govnet")
TREE = tuple(os.path.join(repo, name) + os.sep for name in (*OWN, "scenarios"))
sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]
sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.curdir) != repo]

def where_from():
    for name, module in list(sys.modules.items()):
        path = os.path.realpath(getattr(module, "__file__", None) or os.devnull)
        if path.startswith(TREE) or (name.split(".")[0] in OWN and not path.startswith(site + os.sep)):
            sys.stderr.write(f"runner: {name} was loaded from {path}, not from the installed wheel\n")
            sys.stderr.flush()
            os._exit(99)

atexit.register(where_from)
if sys.argv[1:2] == ["--where"]:
    import topology
    from topology.scenarios import scenarios_dir
    print(topology.__file__)
    print(scenarios_dir())
    sys.exit(0)
sys.argv[0] = "govnet"
runpy.run_module("govnet", run_name="__main__", alter_sys=True)
"""


def _copy_sources(target: Path) -> Path:
    """The build inputs of the repository, without caches, in ``target``."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    target.mkdir()
    for name in BUILD_INPUTS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=skip)
        else:
            shutil.copy2(source, target / name)
    return target


def _pip(*args: str | Path, cwd: Path) -> None:
    """Run pip of this interpreter offline; fails the test with pip's output when it fails."""
    done = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        pytest.fail(f"pip {' '.join(map(str, args))} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the wheel, the folder it is installed into), both outside the repository."""
    root = tmp_path_factory.mktemp("wheel")
    assert REPO.resolve() not in root.resolve().parents
    source = _copy_sources(root / "src")
    _pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", root / "dist", source, cwd=root)
    wheels = sorted((root / "dist").glob("govnet-*.whl"))
    assert len(wheels) == 1, wheels
    _pip("install", "--no-deps", "--no-index", "-q", "--target", root / "site", wheels[0], cwd=root)
    return wheels[0], root / "site"


def _govnet(site: Path, *args: object, cwd: Path) -> subprocess.CompletedProcess:
    """``govnet ARGS`` from the installed wheel only (see :data:`RUNNER`)."""
    env = {k: v for k, v in os.environ.items() if k not in ("GOVNET_SCENARIOS", "PYTHONPATH", "PYTHONHOME")}
    env.update(PYTHONPATH=str(site), PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-c", RUNNER, str(REPO.resolve()), str(site), *map(str, args)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_the_wheel_carries_every_package_data_file_and_scenario(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"topology/builtin/{p.relative_to(SCENARIOS).as_posix()}" for p in SCENARIOS.rglob("*.yaml")}
    for top in PACKAGES:
        for path in (REPO / top).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                expected.add(path.relative_to(REPO).as_posix())
    assert "topology/builtin/chuxiong/plan.yaml" in expected
    missing = sorted(expected - names)
    assert not missing, f"files of the tree missing from the wheel (add them to package-data): {missing}"


def test_the_installed_wheel_finds_its_own_scenarios(installed: tuple[Path, Path], tmp_path: Path) -> None:
    _, site = installed
    where = _govnet(site, "--where", cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    package, scenarios = where.stdout.splitlines()
    assert Path(package).resolve().is_relative_to(site.resolve())
    assert Path(scenarios).resolve() == (site / "topology" / "builtin").resolve()


def test_govnet_check_without_a_plan_runs_the_default_scenario_from_the_wheel(installed: tuple[Path, Path],
                                                                              tmp_path: Path) -> None:
    _, site = installed
    result = _govnet(site, "check", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert PLAN_NAME in result.stdout
    assert "scenarios/chuxiong/plan.yaml" in result.stdout  # a built-in file outside the working folder: named as in a checkout


def test_govnet_validate_takes_a_packaged_scenario_by_folder(installed: tuple[Path, Path], tmp_path: Path) -> None:
    _, site = installed
    result = _govnet(site, "validate", site / "topology" / "builtin" / "civil-affairs", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok (" in result.stdout
