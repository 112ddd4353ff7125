"""Pass ``sites``: the site tree of the administrative hierarchy.

Definition. Sites nest under ``children``; a site without a level is one
level below its parent (:data:`~topology.vocabulary.LEVELS`: 中央, province,
prefecture, county, township), a top site without one is a province, and a
child must sit below its parent's level. ``generate`` adds ``count`` sites
named by a pattern (``{i}``, ``{parent}`` and the placeholders of the parent's
site), each taking the generated templates; a ``generate`` inside it does the
same below every site it generates (the townships of every generated county).
Site names are unique across the plan; the templates each site names are
recorded for the ``templates`` pass.

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

Nested: two counties, each with three townships named after their county::

    >>> d = run(draft_of('''
    ... name: demo
    ... sites:
    ...   云南省:
    ...     children:
    ...       楚雄州:
    ...         generate: {count: 2, name: "{parent}县{i}", generate: {count: 3, name: "{county}镇{i}"}}
    ... '''), upto="sites")
    >>> [s.name for s in d.sites.values() if s.level == "township"]   # doctest: +NORMALIZE_WHITESPACE
    ['楚雄州县1镇1', '楚雄州县1镇2', '楚雄州县1镇3', '楚雄州县2镇1', '楚雄州县2镇2', '楚雄州县2镇3']
"""

from __future__ import annotations

from ..model import Site
from ..schema import GenerateSpec, SiteSpec
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
        _generate(d, name, level, spec.generate, path + ("generate",))


def _generate(d: Draft, name: str, level: Level, gen: GenerateSpec, path: tuple) -> None:
    """The sites ``gen`` (written at ``path``) makes below site ``name``, and below each of them what a nested
    ``generate`` makes; the site limit is checked before every batch, so no nesting builds past it."""
    if len(d.sites) + gen.count > d.max_sites:
        d.error(path + ("count",), f"the plan would have more than {d.max_sites:,} sites", limit_hint("sites"))
        raise TooLarge()
    child_level = gen.level or _below(level)
    if LEVELS.index(child_level) <= LEVELS.index(level):
        d.error(path + ("level",), f"the sites generated below '{name}' ({level}) cannot be of level {child_level}",
                f"generated sites must be of a lower level than their parent, highest first {', '.join(LEVELS)}")
        return
    ctx = d.context(name)
    phase = d.phase_of(gen.phase, path + ("phase",)) if gen.phase else d.sites[name].phase
    for i in range(1, gen.count + 1):
        child = d.format(gen.name, ctx, path + ("name",), {"i": i, "parent": name})
        if child is None:
            break
        added = _add(d, child, child_level, name, None, phase, path)
        d.site_templates[child] = [(t, path + ("templates", j)) for j, t in enumerate(gen.templates)]
        if added and gen.generate is not None:
            _generate(d, child, child_level, gen.generate, path + ("generate",))


def _add(d: Draft, name: str, level: Level, parent: str | None, title: str | None, phase: int, path: tuple) -> bool:
    if name in d.sites:
        d.error(path, f"site '{name}' is defined twice (first at {d.mark(d.site_paths[name])})",
                "site names must be unique across the plan")
        return False
    d.sites[name] = Site(name, level, parent, title, phase, d.mark(path))
    d.site_paths[name] = path
    return True
