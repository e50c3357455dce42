"""The measure definitions (domain/measures/): one per key, read by every reader, each
weighted by its named rule."""

from __future__ import annotations

import dataclasses

from gl_csm.domain.health import Measure
from gl_csm.domain.measures import registry
from gl_csm.domain.measures.base import GROUP_NAMES
from gl_csm.domain.rules import DEFAULT_RULES, rules_from_mapping


def test_the_scorecard_of_spec_4_in_its_order() -> None:
    assert [(g, [d.key for d in defs]) for g, defs in registry.groups()] == [
        ("product", ["license_utilization", "user_engagement", "scm", "ci", "devsecops", "cd"]),
        ("risk", ["sentiment"]),
        ("outcomes", ["success_plan"]),
        ("voice", ["support", "nps"]),
        ("engagement", ["meeting_cadence", "persona_engagement"]),
    ]


def test_every_weight_is_the_rule_named_after_the_measure() -> None:
    """rules.health.weights.GROUP.KEY: the README documents each (tests/test_readme.py)."""
    changed = rules_from_mapping(
        {"health": {"weights": {"voice": {"nps": 7}, "product": {"ci": 3}}}}
    ).health
    for d in registry.definitions():
        group = getattr(DEFAULT_RULES.health.weights, d.group)
        assert d.weight(DEFAULT_RULES.health) == getattr(group, d.key), d.key
        assert d.weight(changed) == getattr(getattr(changed.weights, d.group), d.key), d.key
    assert {f.name for f in dataclasses.fields(DEFAULT_RULES.health.weights)} == set(GROUP_NAMES)


def test_every_measure_has_words_and_a_unit() -> None:
    for d in registry.definitions():
        assert d.name and d.name != d.key and "_" not in d.name, d.key
        m = Measure(name=d.key, group=d.group, value=None, color=None, weight=1, applied_weight=0)
        # The CSM's sentiment says "none" (it is a color, not a quantity).
        assert registry.reading_text(m) == ("none" if d.key == "sentiment" else "no data")


def test_values_read_back_as_text_read_with_their_unit() -> None:
    """The dashboard reads the triage results, where each value is text."""
    assert registry.value_words("license_utilization", "84") == "84% of licensed seats active"
    assert registry.value_words("ci", "0.45") == "45% of users"
    assert registry.value_words("support", "1") == "1 ticket in the last 30 days"
    assert registry.value_words("meeting_cadence", "91") == "91 days since the last call"
    assert registry.value_words("persona_engagement", "[]") == (
        "no key persona in the last 90 days"
    )
    assert registry.value_words("nps", "-") == "no data"
    assert registry.value_words("something_new", "7") == "7"
    assert registry.measure_name("something_new") == "Something new"


def test_the_measures_are_one_immutable_table_naming_every_measure_module() -> None:
    # The scorecard's measures are read in one place (registry.MEASURES), whatever the
    # import order; a measure module left out of that tuple is caught here.
    import importlib
    import pkgutil

    import gl_csm.domain.measures as package

    assert isinstance(registry.MEASURES, tuple)
    defined = [
        d
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name)
        for d in getattr(
            importlib.import_module(f"{package.__name__}.{info.name}"), "DEFINITIONS", ()
        )
    ]
    assert sorted(d.key for d in registry.MEASURES) == sorted(d.key for d in defined)
    assert set(registry.definitions()) == set(registry.MEASURES)
