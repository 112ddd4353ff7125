"""The setup of a check needs the rule kinds' parameter models, never their evaluators nor the simulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from policies.params import KIND_PARAMS
from policies.registry import RULE_PARAMS
from tests.helpers import REPO, scenario_plan

HEAVY = ("simulator", "scapy", "scipy", "numpy", "networkx", "policies.kinds", "policies.engine")


def test_preparing_a_check_imports_neither_the_simulator_nor_the_evaluators():
    code = textwrap.dedent(f"""\
        import json, sys
        from topology import load_plan
        from policies.loader import select_policies
        from policies.setup import prepare_check
        net = load_plan({str(scenario_plan("chuxiong"))!r})
        setup = prepare_check(net, select_policies(net, None))
        print(json.dumps({{"rules": len(setup.rules), "loaded": [m for m in {HEAVY!r} if m in sys.modules]}}))
        """)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["rules"] > 0  # the plan's policies were really resolved and checked
    assert answer["loaded"] == []


def test_every_kind_has_a_params_model_and_an_evaluator():
    from policies import kinds  # noqa: F401  (registers the rule kinds)
    from policies.registry import RULE_KINDS

    assert set(KIND_PARAMS) == set(RULE_KINDS)
    assert RULE_PARAMS is KIND_PARAMS
