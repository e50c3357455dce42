"""The scorecard's measures, one definition each (SPEC 4), read by the health score,
`gl-csm assess`, the account card, the triage and escalation texts, the report and the
dashboard.

Every module of this package that holds a ``DEFINITIONS`` tuple of
:class:`~gl_csm.domain.measures.base.MeasureDef` is loaded (:func:`load_module`): a new
measure is one new module here, with its test. Inside a group the measures are in the
order of their ``rank`` (SPEC 4's table).
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from gl_csm.domain.account import Account
from gl_csm.domain.measures import base
from gl_csm.domain.measures.base import GROUP_NAMES, Measure, MeasureDef

_TABLE: dict[str, MeasureDef] = {}
_ORDERED: list[tuple[MeasureDef, ...]] = []


def register(definition: MeasureDef) -> MeasureDef:
    """Add a measure to the scorecard; a key can be defined only once."""
    if definition.key in _TABLE:
        raise ValueError(f"measure {definition.key!r} is defined twice")
    _TABLE[definition.key] = definition
    _ORDERED.clear()
    return definition


def unregister(key: str) -> None:
    """Take a measure off the scorecard (tests that add one put the table back)."""
    _TABLE.pop(key, None)
    _ORDERED.clear()


def load_module(module: ModuleType) -> tuple[MeasureDef, ...]:
    """Register the ``DEFINITIONS`` of one measure module."""
    found = tuple(getattr(module, "DEFINITIONS", ()))
    for definition in found:
        register(definition)
    return found


def _load_package() -> None:
    package = importlib.import_module(base.__name__.rsplit(".", 1)[0])
    skip = {"base", "registry"}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name not in skip:
            load_module(importlib.import_module(f"{package.__name__}.{info.name}"))


def definitions() -> tuple[MeasureDef, ...]:
    """Every measure, by group in SPEC 4's order, then by rank."""
    if not _ORDERED:
        groups = list(GROUP_NAMES)
        ordered = sorted(_TABLE.values(), key=lambda d: (groups.index(d.group), d.rank, d.key))
        _ORDERED.append(tuple(ordered))
    return _ORDERED[0]


def groups() -> tuple[tuple[str, tuple[MeasureDef, ...]], ...]:
    """The groups of SPEC 4's table with their measures in order."""
    return tuple(
        (group, tuple(d for d in definitions() if d.group == group)) for group in GROUP_NAMES
    )


def definition(key: str) -> MeasureDef | None:
    return _TABLE.get(key)


def keys() -> tuple[str, ...]:
    return tuple(d.key for d in definitions())


def measure_name(key: str) -> str:
    """The name people read ("License utilization"); an unknown key in plain words."""
    found = _TABLE.get(key)
    return found.name if found is not None else key.replace("_", " ").capitalize()


def group_name(group: str) -> str:
    return GROUP_NAMES.get(group, group.replace("_", " ").capitalize())


def reading_text(m: Measure) -> str:
    """A measure's reading in words with its unit, or why it has no data."""
    found = _TABLE.get(m.name)
    if found is not None:
        return found.text(m)
    return m.note or ("no data" if m.value is None else str(m.value))


def steady_text(m: Measure, account: Account) -> str:
    """The reading as the card and the issues quote it: the same tomorrow for an
    unchanged account (dates, not day counts)."""
    found = _TABLE.get(m.name)
    return found.steady_text(m, account) if found is not None else reading_text(m)


def value_words(key: str, value: object) -> str:
    """A value read back as text (the triage results) in words with its unit: "no data"
    for none, an unknown measure's value as it came."""
    text = "" if value is None else str(value).strip()
    if text in ("", "-", "None"):
        return "no data"
    found = _TABLE.get(key)
    return text if found is None else found.unit(value)


_load_package()
