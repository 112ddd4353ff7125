"""Bad input never hurts: exit codes that mean one thing, no overwritten inputs, bounded work, clean text.

Every case of the issue "Bad input never hurts" is one test here, run as a
user would (the CLI in a subprocess where the process matters: signals,
tracebacks), and a fuzz test mutates the shipped plans structurally.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import signal
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govnet.cli import run
from tests.helpers import REPO, SCENARIOS, run_cli, write_plan

HEAD = """\
name: x
domains: {d: {kind: extranet, pool: 10.0.0.0/8}}
sites: {s: {}}
defaults: {node: {domain: d, site: s}}
"""


def govnet(*args: object) -> tuple[int, str, str]:
    """``govnet ARGS`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = run([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def chuxiong(tmp_path: Path) -> Path:
    folder = tmp_path / "chuxiong"
    shutil.copytree(SCENARIOS / "chuxiong", folder)
    return folder


# -- no command writes over its inputs --------------------------------------------------------------
@pytest.mark.parametrize("args", [
    ["check", "{plan}", "-o", "{plan}"],
    ["check", "{plan}", "-o", "{part}"],
    ["show", "{plan}", "-o", "{plan}"],
    ["reach", "{plan}", "--from", "互联网", "--to", "楚雄州公众信息网", "-o", "{part}"],
    ["draw", "{plan}", "-o", "{svg}"],
    ["capacity", "{plan}", "--failures", "none", "-o", "{png}"],
    ["trace", "{plan}", "--from", "互联网", "--to", "楚雄州公众信息网", "--pcap", "{plan}"],
    ["check", "{plan}", "--policy", "{policy}", "-o", "{policy}"],
])
def test_no_command_writes_over_one_of_its_inputs(chuxiong, args):
    policy = chuxiong / "local.yaml"
    policy.write_text("rules: [{id: L-1, kind: unified_channel}]\n", encoding="utf-8")
    # a picture named like a plan part: give the part the picture's name through a link
    svg, png = chuxiong / "parts" / "intranet.svg", chuxiong / "parts" / "intranet.png"
    svg.symlink_to(chuxiong / "parts" / "intranet.yaml")
    png.symlink_to(chuxiong / "parts" / "network.yaml")
    before = digest(chuxiong)
    filled = [a.format(plan=chuxiong / "plan.yaml", part=chuxiong / "parts" / "acls.yaml", svg=svg, png=png,
                       policy=policy) for a in args]
    code, _out, err = govnet(*filled)
    assert code == 2, err
    assert "is read by this command" in err and "Traceback" not in err
    assert digest(chuxiong) == before


# -- crashes are not findings -----------------------------------------------------------------------
def test_an_internal_error_exits_3_with_the_version_and_the_traceback_only_with_debug(monkeypatch, tmp_path):
    import importlib

    commands = importlib.import_module("govnet.commands.plan")

    def broken(net):
        raise ZeroDivisionError("planted bug")

    monkeypatch.setattr(commands, "summarize", broken)
    plan = write_plan(tmp_path, HEAD + "nodes: {a: {role: host}}\n")
    code, _, err = govnet("show", plan)
    assert code == 3
    assert "govnet 0.1.0: internal error (ZeroDivisionError: planted bug)" in err and "please report it" in err
    assert "Traceback" not in err
    code, _, err = govnet("--debug", "show", plan)
    assert code == 3 and "Traceback" in err


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.5])  # from our imports on (the interpreter starts in ~50 ms)
def test_interrupt_exits_130_without_a_traceback_or_partial_output(tmp_path, delay):
    out = tmp_path / "report.json"
    p = subprocess.Popen([sys.executable, "-m", "govnet", "check", SCENARIOS / "yunnan", "-o", out],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    time.sleep(delay)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    if p.returncode == 0:  # the machine was quick: the run ended before the signal
        return
    assert p.returncode in (130, -signal.SIGINT), err  # 130, or killed by the signal (a shell shows 130)
    assert "Traceback" not in err and "Aborted" not in err
    assert not out.exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("text, message", [
    (HEAD + "nodes: {a: {role: host, site: nowhere}}\nservices: {x: {kind: data, rate: 1M}}\n"
            "traffic: [{service: x, from: a, to: \"{site}X\"}]\n", "has no value here"),
    (HEAD + "nodes: {a: {role: router}, b: {role: router}}\nlinks: [{a: a, b: b, bandwidth: 1.0e-300}]\n",
     "is out of range"),
    (HEAD + "groups: {g: {site: null}}\nnodes: {a: {role: router, group: g}}\n", "has no site"),
    (HEAD + "include: [" + "x" * 300 + ".yaml]\n", "cannot be a file name here"),
    (HEAD + "stars: [{core: a, count: 3, name: \"{core}部门{i:>999999999}\"}]\nnodes: {a: {role: router}}\n",
     "is not a simple width"),
    (HEAD + "stars: [{core: a, count: 3, name: \"{core.__class__}\"}]\nnodes: {a: {role: router}}\n",
     "is not a placeholder a name may use"),
    (HEAD + "nodes: {\"a\\x1b[31m\": {role: host}}\n", "control character U+001B"),
    (HEAD + "nodes: {\"a\\u202eb\": {role: host}}\n", "control character U+202E"),
    (HEAD + "policies: [egov-basline]\nnodes: {a: {role: host}}\n", "did you mean 'egov-baseline'"),
    (HEAD + "policies: [../outside.yaml]\nnodes: {a: {role: host}}\n", "lies outside the plan's folder"),
])
def test_bad_input_is_an_error_with_its_position(tmp_path, text, message):
    (tmp_path / "outside.yaml").write_text("rules: [{id: O-1, kind: unified_channel}]\n", encoding="utf-8")
    plan = write_plan(tmp_path / "p", text)
    code, out, err = govnet("validate", plan)
    assert code == 2, (out, err)
    assert message in err and "Traceback" not in err and "internal error" not in err
    assert f"{Path(plan).name}:" in err.splitlines()[0]


@pytest.mark.parametrize("output, message", [
    ("{tmp}", "it is a folder"),
    ("{tmp}/" + "y" * 300, "File name too long"),
    ("/proc/no-such-dir/x.json", "does not exist"),
])
def test_outputs_that_cannot_be_written_are_input_errors(tmp_path, output, message):
    code, _, err = govnet("show", SCENARIOS / "chuxiong", "-o", output.format(tmp=tmp_path))
    assert code == 2 and message in err and "Traceback" not in err


# -- bounded work ---------------------------------------------------------------------------------------
def test_a_plan_that_would_expand_beyond_the_limit_is_refused_before_expanding(tmp_path):
    text = """\
    name: x
    domains: {d: {kind: extranet, pool: 10.0.0.0/8}}
    defaults: {node: {domain: d}}
    sites: {s: {children: {c: {level: county, generate: {count: 5000}}}}}
    level_templates: {township: [t]}
    templates: {t: {nodes: {'{site}r': {role: router}}, stars: [{core: '{site}r', count: 100000, name: '{site}u{i}'}]}}
    """
    code, _, err = govnet("validate", write_plan(tmp_path, text))
    assert code == 2 and "would expand to 500,005,000 nodes" in err and "GOVNET_MAX_NODES" in err


STAR_PLAN = """\
name: x
{limits}domains: {{d: {{kind: extranet, pool: 10.0.0.0/8}}}}
sites: {{s: {{}}}}
defaults: {{node: {{domain: d, site: s}}}}
nodes: {{core: {{role: router}}}}
stars: [{{core: core, count: {count}, name: 'u{{i}}'}}]
"""


def test_a_plan_past_the_default_size_is_refused_from_its_counts_and_told_how_to_say_it_is_that_large(tmp_path):
    from topology.expand.draft import MAX_NODES

    code, _, err = govnet("validate", write_plan(tmp_path, STAR_PLAN.format(limits="", count=MAX_NODES)))
    assert code == 2 and f"would expand to {MAX_NODES + 1:,} nodes" in err
    assert "limits: {nodes: N}" in err and "GOVNET_MAX_NODES" in err


def test_a_plan_s_own_limits_hold_and_point_at_their_line(tmp_path):
    code, out, _ = govnet("validate", write_plan(tmp_path, STAR_PLAN.format(limits="limits: {nodes: 30}\n", count=29)))
    assert code == 0 and "30 nodes" in out
    code, _, err = govnet("validate", write_plan(tmp_path, STAR_PLAN.format(limits="limits: {nodes: 30}\n", count=30)))
    assert code == 2 and "plan.yaml:2:" in err and "would expand to 31 nodes, more than the limit of 30" in err


def test_a_plan_cannot_lift_its_limits_without_bound(tmp_path):
    from topology.schema import PLAN_LIMIT_CEILING

    limits = f"limits: {{nodes: {PLAN_LIMIT_CEILING + 1}}}\n"
    code, _, err = govnet("validate", write_plan(tmp_path, STAR_PLAN.format(limits=limits, count=1)))
    assert code == 2 and "plan.yaml:2:" in err and "Traceback" not in err


def test_includes_that_fan_out_are_read_once_and_refused_when_included_twice(tmp_path):
    write_plan(tmp_path, "name: x\ninclude: [a0.yaml, b0.yaml]\n")
    for i in range(15):
        for side in "ab":
            write_plan(tmp_path, f"include: [a{i + 1}.yaml, b{i + 1}.yaml]\n", f"{side}{i}.yaml")
    write_plan(tmp_path, "assumptions: [x]\n", "a15.yaml")
    write_plan(tmp_path, "assumptions: [y]\n", "b15.yaml")
    code, _, err = govnet("validate", tmp_path / "plan.yaml")
    assert code == 2 and "is already included" in err


def test_a_file_of_too_many_values_stops_early(tmp_path):
    lines = ["name: x", "nodes:"] + [f"  n{i}: {{role: host}}" for i in range(300_000)]
    path = tmp_path / "plan.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = govnet("validate", path)
    assert code == 2 and "holds more than 100,000 values" in err and "GOVNET_MAX_VALUES" in err


# -- clean output ------------------------------------------------------------------------------------
def test_paths_in_messages_are_normalised_and_reports_carry_no_absolute_path(tmp_path):
    fault = SCENARIOS / "chuxiong" / "faults" / "firewall-hole.yaml"
    done = run_cli("check", fault, "--format", "json", cwd=REPO)
    assert "/../" not in done.stdout and "faults/../parts" not in done.stdout
    assert '"file": "scenarios/chuxiong/parts/' in done.stdout  # included parts named from the plan's own folder
    elsewhere = run_cli("check", "--format", "json", cwd=tmp_path)  # the default plan, from another folder
    assert str(REPO) not in elsewhere.stdout and '"plan": "scenarios/chuxiong/plan.yaml"' in elsewhere.stdout


def test_paths_above_the_working_directory_are_named_as_the_user_reaches_them(tmp_path):
    shutil.copytree(SCENARIOS / "chuxiong", tmp_path / "chuxiong")
    faults = tmp_path / "chuxiong" / "faults"
    done = run_cli("check", "firewall-hole.yaml", "--format", "json", cwd=faults)
    files = {finding["file"] for finding in _findings(done.stdout)}
    assert done.returncode == 1 and files and str(tmp_path) not in done.stdout
    assert "../parts/acls.yaml" in files and all((faults / f).is_file() for f in files)  # each opens from here
    acls = tmp_path / "chuxiong" / "parts" / "acls.yaml"
    acls.write_text(acls.read_text(encoding="utf-8") + "  互联网入: [{action: allw}]\n", encoding="utf-8")
    done = run_cli("validate", "firewall-hole.yaml", cwd=faults)
    assert done.returncode == 2 and str(tmp_path) not in done.stderr
    assert done.stderr.startswith("../parts/acls.yaml:"), done.stderr


def _findings(report: str) -> list[dict]:
    """Every finding of a JSON check report that names a file, whatever rule gave it."""
    found: list[dict] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("file"), str) and isinstance(value.get("line"), int):
                found.append(value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads(report))
    return found


# -- the fuzz test ------------------------------------------------------------------------------------------
ODD_VALUES = [None, "", "x" * 300, -1, 0, 1.0e300, 1.0e-300, "{site.__class__}", "{i:>99999}", [], {}, [1, [2]],
              {"a": 1}, True, "10.0.0.0/33", "any", "楚雄州外网核心", "\u202e", "a\tb"]


def paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for k, v in data.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from paths(v, prefix + (i,))


def mutate(data, path, op, value):
    """One structural change at ``path``: drop it, replace it, rename its key, or double it."""
    if not path:
        return value if op == "replace" else data
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if op == "drop":
        del parent[last]
    elif op == "replace":
        parent[last] = value
    elif op == "rename" and isinstance(parent, dict):
        parent[str(last) + "x"] = parent.pop(last)
    elif op == "double" and isinstance(parent, list):
        parent.append(parent[last])
    elif op == "double" and isinstance(parent, dict):
        parent[str(last) + "2"] = parent[last]
    return data


SHIPPED = ["changchun", "weihai", "xiushan", "civil-affairs", "chuxiong"]


@pytest.fixture(scope="module")
def scenario_copies(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    for name in SHIPPED:
        shutil.copytree(SCENARIOS / name, root / name)
    return root


class _Hang(Exception):
    pass


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
          deadline=None)
@given(scenario=st.sampled_from(SHIPPED), pick=st.integers(0, 10**9), op=st.sampled_from(["drop", "replace", "rename",
                                                                                          "double"]),
       value=st.sampled_from(ODD_VALUES))
def test_fuzz_mutated_shipped_plans_give_an_answer_never_a_crash(scenario_copies, scenario, pick, op, value):
    folder = scenario_copies / scenario
    original = (SCENARIOS / scenario / "plan.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(original)
    candidates = list(paths(data))
    mutated = mutate(data, candidates[pick % len(candidates)], op, value)
    (folder / "plan.yaml").write_text(yaml.safe_dump(mutated, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def hang(signum, frame):  # a guard against work without bound, not a measurement of speed
        raise _Hang()

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(60)
    try:
        code, _out, err = govnet("validate", folder / "plan.yaml")
    except _Hang:
        pytest.fail(f"validate did not answer within a minute ({op} at {candidates[pick % len(candidates)]})")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert code in (0, 1, 2), err
    assert "Traceback" not in err and "internal error" not in err, err
