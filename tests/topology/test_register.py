"""Stable addresses: with the address register (``topology.register``) included, one random addition, removal or
renaming of a node or link leaves the address of every other node and link as it was."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from topology.loader import load_text
from topology.register import register_data, register_yaml

NAMES = st.text(alphabet="甲乙丙丁戊己庚辛abcxyz", min_size=1, max_size=4)


@st.composite
def plans(draw: st.DrawFn) -> dict:
    """A tree of routers (random names, order and shape) with some hosts, in one domain with a pool."""
    names = draw(st.lists(NAMES, min_size=2, max_size=14, unique=True))
    nodes = {n: {"role": draw(st.sampled_from(["core_router", "router", "host"]))} for n in names}
    links = [{"a": names[draw(st.integers(0, i - 1))], "b": names[i]} for i in range(1, len(names))]
    return {"name": "p", "domains": {"外网": {"kind": "extranet", "pool": "10.20.0.0/16"}},
            "sites": {"州": {"level": "prefecture"}}, "defaults": {"node": {"domain": "外网", "site": "州"}},
            "nodes": nodes, "links": links}


def _text(plan: dict) -> str:
    return yaml.safe_dump(plan, allow_unicode=True, sort_keys=False)


def _addresses(net) -> dict[str, str]:
    out = {f"loopback {n.name}": str(n.loopback) for n in net.nodes.values()}
    out |= {f"link {l.name}": str(l.subnet) for l in net.links.values()}
    out |= {f"{i.node} on {i.link}": str(i.address) for n in net.nodes.values() for i in n.interfaces.values() if i.link}
    return out


@st.composite
def edits(draw: st.DrawFn) -> tuple[dict, dict, set[str]]:
    """(old plan, new plan, names the edit touches): add a node with a link (anywhere in the order), remove a
    leaf and its link, rename a leaf, or add a link between two nodes."""
    old = draw(plans())
    new = yaml.safe_load(_text(old))
    names = list(old["nodes"])
    leaves = [n for n in names if sum(n in (l["a"], l["b"]) for l in old["links"]) == 1]
    kind = draw(st.sampled_from(["add", "remove", "rename", "link"]))
    if kind == "add":
        fresh = draw(NAMES.filter(lambda x: x not in old["nodes"]))
        at = draw(st.integers(0, len(names)))
        items = list(new["nodes"].items())
        items.insert(at, (fresh, {"role": "router"}))
        new["nodes"] = dict(items)
        new["links"].insert(draw(st.integers(0, len(new["links"]))), {"a": draw(st.sampled_from(names)), "b": fresh})
        return old, new, {fresh}
    if kind in ("remove", "rename"):
        leaf = draw(st.sampled_from(leaves))
        spec = new["nodes"].pop(leaf)
        link = next(l for l in new["links"] if leaf in (l["a"], l["b"]))
        if kind == "remove":
            new["links"].remove(link)
            return old, new, {leaf}
        fresh = draw(NAMES.filter(lambda x: x not in old["nodes"]))
        new["nodes"][fresh] = spec
        link["a" if link["a"] == leaf else "b"] = fresh
        return old, new, {leaf, fresh}
    a, b = draw(st.lists(st.sampled_from(names), min_size=2, max_size=2, unique=True))
    new["links"].insert(draw(st.integers(0, len(new["links"]))), {"a": a, "b": b})
    return old, new, set()


def _touched(key: str, names: set[str], new_links: set[str]) -> bool:
    return any(n in key.split(" ", 1)[1].replace("--", " ").split() for n in names) or any(l in key for l in new_links)


@settings(max_examples=150)
@given(edit=edits())
def test_one_change_moves_no_other_address(edit: tuple[dict, dict, set[str]]) -> None:
    old_plan, new_plan, names = edit
    old = load_text(_text(old_plan))
    registered = yaml.safe_load(register_yaml(old))
    new = load_text(_text({**new_plan, **registered}))
    before, after = _addresses(old), _addresses(new)
    added_links = set(new.links) - set(old.links)
    for key in before.keys() & after.keys():
        if _touched(key, names, added_links):
            continue
        assert before[key] == after[key], key
    used = [str(n.loopback.ip) for n in new.nodes.values()] + [
        str(i.address.ip) for n in new.nodes.values() for i in n.interfaces.values() if i.address is not None]
    assert len(set(used)) == len(used)  # and still no address twice


def test_without_the_register_an_addition_renumbers() -> None:
    """Why the register exists: in plan order, one link added in front moves the addresses after it."""
    plan = {"name": "p", "domains": {"外网": {"kind": "extranet", "pool": "10.20.0.0/16"}},
            "sites": {"州": {"level": "prefecture"}}, "defaults": {"node": {"domain": "外网", "site": "州",
                                                                             "role": "router"}},
            "nodes": {"a": {}, "b": {}, "c": {}}, "links": [{"a": "a", "b": "b"}]}
    old = load_text(_text(plan))
    grown = {**plan, "links": [{"a": "b", "b": "c"}, *plan["links"]]}
    assert str(load_text(_text(grown)).links["a--b"].subnet) != str(old.links["a--b"].subnet)
    kept = load_text(_text({**grown, **register_data(old)}))
    assert str(kept.links["a--b"].subnet) == str(old.links["a--b"].subnet)
    assert str(kept.nodes["a"].loopback) == str(old.nodes["a"].loopback)


def test_an_address_written_in_the_plan_wins_over_the_register() -> None:
    plan = {"name": "p", "domains": {"外网": {"kind": "extranet", "pool": "10.20.0.0/16"}},
            "sites": {"州": {"level": "prefecture"}}, "defaults": {"node": {"domain": "外网", "site": "州",
                                                                             "role": "router"}},
            "nodes": {"a": {}, "b": {}}, "links": [{"a": "a", "b": "b"}]}
    old = load_text(_text(plan))
    taken = str(old.links["a--b"].subnet)  # now written by hand on a LAN of a
    new = load_text(_text({**plan, "nodes": {"a": {"lan": taken}, "b": {}}, **register_data(old)}))
    assert str(new.nodes["a"].lan) == taken and str(new.links["a--b"].subnet) != taken
