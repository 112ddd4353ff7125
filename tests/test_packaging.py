"""What ``pyproject.toml`` declares matches what the code imports and what the tree holds.

- every third-party module the packages import is declared: imported when a
  module loads, in ``dependencies``; imported only inside a function (Dask
  and tqdm, when a sweep asks for them), in ``dependencies`` or an extra; the
  tests' imports in ``dependencies`` or the ``test`` extra;
- every declared package is imported somewhere (or is listed here with what
  uses it);
- ``topology`` imports nothing of ``govnet``;
- the README's test command is what ``.ci/run`` runs.

The wheel itself is built and run outside the repository by
``tests/e2e/test_wheel.py``.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib import metadata
from pathlib import Path

from tests.helpers import REPO

PACKAGES = ("topology", "simulator", "policies", "govnet")
OWN = {*PACKAGES, "tests", "benchmarks"}
# declared but never imported by name: what needs them
USED_INDIRECTLY = {
    "cryptography": "scapy's ESP encryption (scapy.layers.ipsec) imports it",
    "pylopdf-fonts-zh-cn": "topology/cjk_font.py imports it by name (importlib) for its Chinese font",
    "ruff": "tests/test_lint.py runs it as a program",
    "pytest-xdist": "a pytest plugin (addopts -n auto), loaded by pytest",
    "mypy": "tests/test_lint.py runs it as a program",
}
# modules that belong to a declared package's public API though another distribution ships them
PART_OF = {"pydantic-core": "pydantic"}  # pydantic pins the pydantic-core it needs
# modules only ever loaded by a program that brings the import itself
LOADED_BY = {"policies/pytest_plugin.py": {"pytest"}}  # a pytest plugin (entry point pytest11)


def _normal(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _requirement(text: str) -> tuple[str, tuple[str, ...]]:
    """The distribution and extras a requirement string names."""
    found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?", text)
    assert found, text
    extras = tuple(e.strip() for e in (found.group(2) or "").split(",") if e.strip())
    return _normal(found.group(1)), extras


def _brings(text: str) -> set[str]:
    """The distributions a requirement installs by name: itself and what its extras add."""
    name, extras = _requirement(text)
    project = _pyproject()["project"]
    if name == _normal(project["name"]):  # a self-reference such as govnet[sweep]
        return {d for extra in extras for r in project["optional-dependencies"][extra] for d in _brings(r)}
    out = {name}
    for line in metadata.requires(name) or []:
        marker = re.search(r"""extra\s*==\s*['"]([^'"]+)['"]""", line)
        if marker and marker.group(1) in extras:
            out.add(_requirement(line)[0])
    return out


def _declared(*groups: str) -> set[str]:
    """Distributions installed by ``dependencies`` ("") and the named extras."""
    project = _pyproject()["project"]
    lines = [r for g in groups for r in (project["dependencies"] if g == "" else project["optional-dependencies"][g])]
    return {d for r in lines for d in _brings(r)}


@cache
def _module_owners() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


def _distribution(module: str) -> str:
    """The distribution that installs top-level ``module``."""
    names = _module_owners().get(module)
    assert names, f"no installed distribution provides the module '{module}'"
    return PART_OF.get(_normal(names[0]), _normal(names[0]))


def _imports(path: Path) -> Iterator[tuple[str, bool, int]]:
    """(top-level module, imported when the module loads, line) of every absolute import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))

    def walk(node: ast.AST, at_load: bool) -> Iterator[tuple[str, bool, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # never imported at run time
            if isinstance(child, ast.Import):
                yield from ((a.name.split(".")[0], at_load, child.lineno) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                yield child.module.split(".")[0], at_load, child.lineno
            inside = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from walk(child, at_load and not inside)

    yield from walk(tree, True)


def _third_party(folders: tuple[str, ...]) -> Iterator[tuple[str, bool, str]]:
    """(module, imported when loading, FILE:LINE) of every third-party import under ``folders``."""
    for folder in folders:
        for path in sorted((REPO / folder).rglob("*.py")):
            name = path.relative_to(REPO).as_posix()
            for module, at_load, line in _imports(path):
                if module not in sys.stdlib_module_names and module not in OWN | LOADED_BY.get(name, set()):
                    yield module, at_load, f"{name}:{line}"


def _extras() -> list[str]:
    return list(_pyproject()["project"].get("optional-dependencies", {}))


def test_every_third_party_import_of_the_packages_is_declared() -> None:
    core, anywhere = _declared(""), _declared("", *_extras())
    missing = [f"{where}: {module} ({_distribution(module)})" for module, at_load, where in _third_party(PACKAGES)
               if _distribution(module) not in (core if at_load else anywhere)]
    assert not missing, "imported but not declared in pyproject.toml (dependencies, or an extra when imported " \
                        "only inside a function):\n" + "\n".join(missing)


def test_the_sweep_packages_are_imported_only_when_asked_for() -> None:
    sweep = _declared("sweep") - _declared("")
    at_load = [f"{where}: {module}" for module, loading, where in _third_party(PACKAGES)
               if loading and _distribution(module) in sweep]
    assert sweep and not at_load, at_load


def test_every_import_of_the_tests_is_declared() -> None:
    declared = _declared("", "test")
    missing = sorted({f"{where}: {module}" for module, _, where in _third_party(("tests",))
                      if _distribution(module) not in declared})
    assert not missing, "the tests import what the test extra does not install:\n" + "\n".join(missing)


def test_every_declared_dependency_is_used() -> None:
    used = {_distribution(module) for module, _, _ in _third_party(PACKAGES)}
    project = _pyproject()["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["sweep"]
    unused = [r for r in requirements if not _brings(r) & used and _requirement(r)[0] not in USED_INDIRECTLY]
    assert not unused, f"declared but never imported: {unused}"


def test_topology_imports_nothing_of_govnet() -> None:
    found = [where for module, _, where in _imports_under("topology") if module == "govnet"]
    assert not found, found


def _imports_under(folder: str) -> Iterator[tuple[str, bool, str]]:
    for path in sorted((REPO / folder).rglob("*.py")):
        for module, at_load, line in _imports(path):
            yield module, at_load, f"{path.relative_to(REPO)}:{line}"


def test_the_readme_test_command_is_what_ci_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"Run the whole test suite:\s*```sh\n(.+?)\n```", readme, re.DOTALL)
    assert block, "README.md has no test command after 'Run the whole test suite:'"
    lines = [line for line in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert lines[-1].strip() == block.group(1).strip()
