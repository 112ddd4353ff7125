"""What the worst bad inputs cost: each answered with exit 2, in seconds and a few hundred MiB.

    python -m benchmarks.bench_bad_input            (every case; prints the table and the bounds)
    python -m benchmarks.bench_bad_input --keep DIR (also keeps the generated plans in DIR)

The issue "Bad input never hurts" bounds every bad input at 5 s and 500 MiB. The costly ones are those
that are large before they are wrong, so the catalogue (:func:`cases`) holds one of each kind of size:

- ``at-the-limit``: a plan just under the default node limit whose error is found last (its address pool
  is too small for the nodes it makes), the most work a plan may cause without saying ``limits:``;
- ``past-the-limit``: five thousand generated townships with a star of 100,000 each, refused from the
  counts before any is made;
- ``sites``: ten sites generating ten thousand each, refused before the second level is made;
- ``wide-pattern``: a name pattern with a width of a billion characters;
- ``fan-out``: includes that fan out two ways fifteen deep (each file read once, the second include an error);
- ``many-values``: a file of 1.2 million keys, under the file size limit;
- ``yunnan-typo``: the Yunnan plan with one policy name mistyped, so that load is followed by resolving it.

Each case runs as its own ``govnet validate`` process, timed and measured by
:func:`benchmarks.bench_scale.measure` (wall, CPU, the child's peak RSS); the exit code must be 2.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from .bench_scale import Measure, govnet_command, measure
from .common import YUNNAN

BOUND_S = 5.0
BOUND_MIB = 500.0
HEAD = "name: x\ndomains: {d: {kind: extranet, pool: 10.0.0.0/8}}\ndefaults: {node: {domain: d}}\n"


def _at_the_limit(folder: Path) -> Path:
    from topology.expand.draft import MAX_NODES

    text = (f"name: x\ndomains: {{d: {{kind: extranet, pool: 10.0.0.0/20}}}}\nsites: {{s: {{}}}}\n"
            f"defaults: {{node: {{domain: d, site: s}}}}\nnodes: {{core: {{role: router}}}}\n"
            f"stars: [{{core: core, count: {MAX_NODES - 1}, name: 'u{{i}}'}}]\n")
    return _write(folder, text)


def _past_the_limit(folder: Path) -> Path:
    return _write(folder, HEAD + "sites: {s: {children: {c: {level: county, generate: {count: 5000}}}}}\n"
                  "level_templates: {township: [t]}\n"
                  "templates: {t: {nodes: {'{site}r': {role: router}}, "
                  "stars: [{core: '{site}r', count: 100000, name: '{site}u{i}'}]}}\n")


def _sites(folder: Path) -> Path:
    children = ", ".join(f"c{i}: {{level: county, generate: {{count: 10000}}}}" for i in range(10))
    return _write(folder, HEAD + f"sites: {{s: {{children: {{{children}}}}}}}\n")


def _wide_pattern(folder: Path) -> Path:
    return _write(folder, HEAD + "sites: {s: {}}\nnodes: {'{site}部门{site:>999999999}': {role: host, site: s}}\n")


def _fan_out(folder: Path) -> Path:
    for i in range(15):
        for side in "ab":
            _write(folder, f"include: [a{i + 1}.yaml, b{i + 1}.yaml]\n", f"{side}{i}.yaml")
    _write(folder, "assumptions: [x]\n", "a15.yaml")
    _write(folder, "assumptions: [y]\n", "b15.yaml")
    return _write(folder, "name: x\ninclude: [a0.yaml, b0.yaml]\n")


def _many_values(folder: Path) -> Path:
    keys = ", ".join(f"k{i:x}: 1" for i in range(1_200_000))  # 12 MB: under the file size limit
    return _write(folder, f"name: x\ngroups: {{g: {{{keys}}}}}\n")


def _yunnan_typo(folder: Path) -> Path:
    shutil.copytree(YUNNAN.parent, folder, dirs_exist_ok=True)
    plan = folder / "plan.yaml"
    text = plan.read_text(encoding="utf-8")
    plan.write_text(text.replace("egov-baseline", "egov-baseline-x", 1), encoding="utf-8")
    return plan


def _write(folder: Path, text: str, name: str = "plan.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def cases() -> dict[str, Callable[[Path], Path]]:
    """The catalogue: name → a function writing the case into a folder and returning its plan file.

    >>> list(cases())[:3]
    ['at-the-limit', 'past-the-limit', 'sites']
    """
    return {"at-the-limit": _at_the_limit, "past-the-limit": _past_the_limit, "sites": _sites,
            "wide-pattern": _wide_pattern, "fan-out": _fan_out, "many-values": _many_values,
            "yunnan-typo": _yunnan_typo}


def verdict(m: Measure) -> str:
    """Whether a case met the issue's bounds: exit 2, < 5 s wall, < 500 MiB.

    >>> verdict(Measure(1.2, 1.1, 200_000, 2, False, ""))
    'ok'
    >>> verdict(Measure(6.0, 5.9, 200_000, 2, False, ""))
    'OVER 5 s'
    """
    if m.timed_out or m.code != 2:
        return f"exit {m.code}" if not m.timed_out else "timed out"
    if m.wall >= BOUND_S:
        return f"OVER {BOUND_S:g} s"
    if m.rss_kib / 1024 >= BOUND_MIB:
        return f"OVER {BOUND_MIB:g} MiB"
    return "ok"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, default=None, help="keep the generated plans in this folder")
    args = parser.parse_args(argv)
    root = args.keep or Path(tempfile.mkdtemp(prefix="govnet-bad-"))
    print(f"{'case':<16} {'wall s':>7} {'CPU s':>7} {'peak MiB':>9}  verdict")
    worst = 0.0
    for name, write in cases().items():
        plan = write(root / name)
        m = measure([*govnet_command(), "validate", str(plan)], 60.0, root / f"{name}.out", root / f"{name}.err")
        worst = max(worst, m.wall)
        print(f"{name:<16} {m.wall:>7.2f} {m.cpu:>7.2f} {m.rss_kib / 1024:>9.0f}  {verdict(m)}")
    print(f"worst wall time {worst:.2f} s; bounds {BOUND_S:g} s and {BOUND_MIB:g} MiB")
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
