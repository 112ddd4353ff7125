"""Pass ``sites``: the site tree of the administrative hierarchy.

Definition. Sites nest under ``children``; a site without a level is one
level below its parent (:data:`~topology.vocabulary.LEVELS`: 中央, province,
prefecture, county, township), a top site without one is a province, and a
child must sit below its parent's level. ``generate`` adds ``count`` sites
named by a pattern (``{i}``, ``{parent}`` and the placeholders of the parent's
site), each taking the generated templates. Site names are unique across the
plan; the templates each site names are recorded for the ``templates`` pass.

    >>> from topology.expand import run
    >>> from topology.loader import draft_of
    >>> d = run(draft_of('''
    ... name: demo
    ... sites:
    ...   云南省:
    ...     children:
    ...       楚雄州: {generate: {count: 2, name: "楚雄州-县{i}"}}
    ... '''), upto="sites")
    >>> [(s.name, s.level, s.parent) for s in d.sites.values()]   # doctest: +NORMALIZE_WHITESPACE
    [('云南省', 'province', None), ('楚雄州', 'prefecture', '云南省'),
     ('楚雄州-县1', 'county', '楚雄州'), ('楚雄州-县2', 'county', '楚雄州')]
"""

from __future__ import annotations

from ..model import Site
from ..schema import SiteSpec
from ..vocabulary import LEVELS, Level
from .draft import Draft, TooLarge, limit_hint

TOP_DEFAULT: Level = "province"  # the level of a top site that names none


def sites(d: Draft) -> Draft:
    """Fill ``d.sites``, ``d.site_paths`` and ``d.site_templates``; raises TooLarge past the site limit."""
    for name, site in d.spec.sites.items():
        _site(d, name, site, None, ("sites", name))
    return d


def _below(level: Level) -> Level:
    return LEVELS[min(LEVELS.index(level) + 1, len(LEVELS) - 1)]


def _site(d: Draft, name: str, spec: SiteSpec, parent: str | None, path: tuple) -> None:
    parent_level = d.sites[parent].level if parent else None
    level = spec.level or (_below(parent_level) if parent_level else TOP_DEFAULT)
    if parent_level and LEVELS.index(level) <= LEVELS.index(parent_level):
        d.error(path + ("level",), f"site '{name}' ({level}) cannot sit below '{parent}' ({parent_level})",
                f"a child site must be of a lower level than its parent, highest first {', '.join(LEVELS)}; a top "
                f"site without a level is a {TOP_DEFAULT}: a national centre above provinces needs level: {LEVELS[0]}")
    _add(d, name, level, parent, spec.title, d.phase_of(spec.phase, path + ("phase",)), path)
    d.site_templates[name] = [(t, path + ("templates", i)) for i, t in enumerate(spec.templates)]
    for child, child_spec in spec.children.items():
        _site(d, child, child_spec, name, path + ("children", child))
    if spec.generate:
        _generate(d, name, level, spec, path)


def _generate(d: Draft, name: str, level: Level, spec: SiteSpec, path: tuple) -> None:
    gen = spec.generate
    assert gen is not None
    if len(d.sites) + gen.count > d.max_sites:
        d.error(path + ("generate", "count"), f"the plan would have more than {d.max_sites:,} sites",
                limit_hint("sites"))
        raise TooLarge()
    child_level = gen.level or _below(level)
    ctx = d.context(name)
    for i in range(1, gen.count + 1):
        child = d.format(gen.name, ctx, path + ("generate", "name"), {"i": i, "parent": name})
        if child is None:
            break
        phase = d.phase_of(gen.phase, path + ("generate", "phase")) if gen.phase else d.sites[name].phase
        _add(d, child, child_level, name, None, phase, path + ("generate",))
        d.site_templates[child] = [(t, path + ("generate", "templates", j)) for j, t in enumerate(gen.templates)]


def _add(d: Draft, name: str, level: Level, parent: str | None, title: str | None, phase: int, path: tuple) -> None:
    if name in d.sites:
        d.error(path, f"site '{name}' is defined twice (first at {d.mark(d.site_paths[name])})",
                "site names must be unique across the plan")
        return
    d.sites[name] = Site(name, level, parent, title, phase, d.mark(path))
    d.site_paths[name] = path
