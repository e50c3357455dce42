"""The scorecard's measures, one definition each (SPEC 4), read by the health score,
`gl-csm assess`, the account card, the triage and escalation texts, the report and the
dashboard.

:data:`MEASURES` names every measure module's ``DEFINITIONS`` tuple of
:class:`~gl_csm.domain.measures.base.MeasureDef`: the one place the scorecard's
measures are listed, the same whatever is imported first. A new measure is one new
module here, with its test, and its ``DEFINITIONS`` named in that tuple. Inside a group
the measures are in the order of their ``rank`` (SPEC 4's table).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType, ModuleType

from gl_csm.domain.account import Account
from gl_csm.domain.measures.base import GROUP_NAMES, Measure, MeasureDef
from gl_csm.domain.measures.engagement import DEFINITIONS as ENGAGEMENT
from gl_csm.domain.measures.license import DEFINITIONS as LICENSE
from gl_csm.domain.measures.outcomes import DEFINITIONS as OUTCOMES
from gl_csm.domain.measures.sentiment import DEFINITIONS as SENTIMENT
from gl_csm.domain.measures.usage import DEFINITIONS as USAGE
from gl_csm.domain.measures.voice import DEFINITIONS as VOICE

#: Every measure of the scorecard, module by module in the order of SPEC 4's groups.
MEASURES: tuple[MeasureDef, ...] = (
    *LICENSE,
    *USAGE,
    *SENTIMENT,
    *OUTCOMES,
    *VOICE,
    *ENGAGEMENT,
)


@dataclass(frozen=True)
class _Table:
    """The measures by key, and in SPEC 4's order (by group, then rank)."""

    by_key: Mapping[str, MeasureDef]
    ordered: tuple[MeasureDef, ...]
    #: :func:`groups` and :func:`keys`, made with the table (every account's assessment
    #: and history ask for them; the table is replaced, never changed, so they hold).
    groups: tuple[tuple[str, tuple[MeasureDef, ...]], ...] = ()
    keys: tuple[str, ...] = ()


def _table(measures: Iterable[MeasureDef]) -> _Table:
    """The table of ``measures``; a key can be defined only once."""
    by_key: dict[str, MeasureDef] = {}
    for definition in measures:
        if definition.key in by_key:
            raise ValueError(f"measure {definition.key!r} is defined twice")
        by_key[definition.key] = definition
    groups = list(GROUP_NAMES)
    ordered = sorted(by_key.values(), key=lambda d: (groups.index(d.group), d.rank, d.key))
    return _Table(
        MappingProxyType(by_key),
        tuple(ordered),
        tuple((group, tuple(d for d in ordered if d.group == group)) for group in GROUP_NAMES),
        tuple(d.key for d in ordered),
    )


_table_now = _table(MEASURES)


def load_module(module: ModuleType) -> tuple[MeasureDef, ...]:
    """Add the ``DEFINITIONS`` of a measure module that :data:`MEASURES` does not name
    (a test shows a new measure this way): the table is replaced by a new one, never
    changed in place."""
    global _table_now
    found = tuple(getattr(module, "DEFINITIONS", ()))
    _table_now = _table((*_table_now.ordered, *found))
    return found


def unregister(key: str) -> None:
    """Take a measure off the scorecard (tests that add one put the table back)."""
    global _table_now
    _table_now = _table(d for d in _table_now.ordered if d.key != key)


def definitions() -> tuple[MeasureDef, ...]:
    """Every measure, by group in SPEC 4's order, then by rank."""
    return _table_now.ordered


def groups() -> tuple[tuple[str, tuple[MeasureDef, ...]], ...]:
    """The groups of SPEC 4's table with their measures in order."""
    return _table_now.groups


def definition(key: str) -> MeasureDef | None:
    return _table_now.by_key.get(key)


def keys() -> tuple[str, ...]:
    return _table_now.keys


def measure_name(key: str) -> str:
    """The name people read ("License utilization"); an unknown key in plain words."""
    found = _table_now.by_key.get(key)
    return found.name if found is not None else key.replace("_", " ").capitalize()


def group_name(group: str) -> str:
    # The words of an unknown group are made only when it is one (every card asks this
    # of every measure).
    found = GROUP_NAMES.get(group)
    return found if found is not None else group.replace("_", " ").capitalize()


def reading_text(m: Measure) -> str:
    """A measure's reading in words with its unit, or why it has no data."""
    found = _table_now.by_key.get(m.name)
    if found is not None:
        return found.text(m)
    return m.note or ("no data" if m.value is None else str(m.value))


def steady_text(m: Measure, account: Account) -> str:
    """The reading as the card and the issues quote it: the same tomorrow for an
    unchanged account (dates, not day counts)."""
    found = _table_now.by_key.get(m.name)
    return found.steady_text(m, account) if found is not None else reading_text(m)


def value_words(key: str, value: object) -> str:
    """A value read back as text (the triage results) in words with its unit: "no data"
    for none, an unknown measure's value as it came."""
    text = "" if value is None else str(value).strip()
    if text in ("", "-", "None"):
        return "no data"
    found = _table_now.by_key.get(key)
    return text if found is None else found.unit(value)
