"""An imported carrier network is checked with the carrier pack: every rule judges it, none trips on the regions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_cli, shared_data


@pytest.mark.parametrize(("folder", "name", "unit"), [("sndlib", "abilene.txt", None),
                                                      ("sndlib", "polska.txt", "Mbit/s"),
                                                      ("topologyzoo", "Geant2009.graphml", None)])
def test_an_imported_network_is_judged_by_every_carrier_rule(tmp_path: Path, folder: str, name: str,
                                                             unit: str | None) -> None:
    source = shared_data(folder, name)
    plan = tmp_path / "plan.yaml"
    done = run_cli("import", source, "-o", plan, *(("--unit", unit) if unit else ()))
    assert done.returncode == 0, done.stderr
    text = plan.read_text(encoding="utf-8")
    assert "policies:\n- carrier\n" in text and "checked with the carrier pack" in text
    done = run_cli("check", plan, "--format", "json")
    assert done.returncode in (0, 1), done.stderr  # judged: compliant or a finding, never bad input
    results = json.loads(done.stdout)["results"]
    assert {r["rule"] for r in results} == {"CAR-UTIL", "CAR-DELAY", "CAR-N1"}
    if folder == "topologyzoo":  # a topology without demands: nothing to load, said so, never passed
        assert all(r["status"] == "not_applicable" and "no" in r["message"] for r in results)
    else:
        by = {r["rule"]: r for r in results}
        assert by["CAR-UTIL"]["status"] in ("pass", "fail") and by["CAR-N1"]["status"] in ("pass", "fail")
        delay = by["CAR-DELAY"]
        # the delay rule judges, unless every flow crosses a saturated link: then it cannot (never a pass of 0 flows)
        assert delay["status"] in ("pass", "fail") or (
            delay["status"] == "not_applicable" and "left to the capacity rule" in delay["message"]
            and by["CAR-UTIL"]["status"] == "fail"), delay
