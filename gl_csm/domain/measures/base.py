"""What a scorecard measure is (SPEC 4): its definition, its inputs and its reading.

A :class:`MeasureDef` holds everything about one measure in one place: the key that
`gl-csm assess --format json` prints, the name people read, its group, how its value
reads with its unit, how it is computed from the account with the thresholds of the
validated rules, its weight in the group, the stable words the card and the issues
quote, and the risk type a red reading points to. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from gl_csm.domain.account import Account
from gl_csm.domain.rules import HealthRules

GREEN, YELLOW, RED, UNKNOWN = "green", "yellow", "red", "unknown"
RANK = {GREEN: 0, YELLOW: 1, RED: 2}

#: The groups of SPEC 4's table in their order, with the names people read.
GROUP_NAMES: dict[str, str] = {
    "product": "Product",
    "risk": "Risk",
    "outcomes": "Outcomes",
    "voice": "Voice of the customer",
    "engagement": "Engagement",
}


@dataclass(frozen=True, slots=True)
class LabelSignals:
    """What people said through labels on the account's tracking issue (SPEC 4).

    `sentiment` is the `sentiment::COLOR` label (newer than the registry, treated as
    fresh); `triage_needed` is the `triage::needed` label (forces needs triage).
    """

    sentiment: str | None = None
    triage_needed: bool = False

    def __post_init__(self) -> None:
        if self.sentiment is not None and self.sentiment not in RANK:
            raise ValueError(f"sentiment must be green, yellow or red, not {self.sentiment!r}")


NO_SIGNALS = LabelSignals()


@dataclass(frozen=True, slots=True)
class Measure:
    """One row of the scorecard. `color` None means no data (left out)."""

    name: str  # the key (SPEC 7 JSON: "measure")
    group: str
    value: object
    color: str | None
    weight: float  # configured weight within the group
    applied_weight: float  # % of the group after sharing out missing weights; 0 = no data
    note: str = ""  # why there is no data, a stale flag, or the value in words

    @property
    def has_data(self) -> bool:
        return self.color is not None


@dataclass(frozen=True, slots=True)
class GroupScore:
    name: str
    weight: float  # configured weight of the group
    score: float | None  # None: no measure with data, left out


@dataclass(frozen=True, slots=True)
class HealthResult:
    color: str  # green | yellow | red | unknown, after overrides
    score: float | None
    scorecard_color: str  # the color the score alone gives (before overrides)
    groups: tuple[GroupScore, ...]
    measures: tuple[Measure, ...]
    overrides: tuple[str, ...]
    sentiment: str | None  # the sentiment used (label or registry), None when no data
    sentiment_from_label: bool
    sentiment_stale: bool  # flagged stale (SPEC 4: 90 days), still counted

    @property
    def has_data(self) -> bool:
        return any(m.color is not None for m in self.measures)


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a measure is computed from: the account, the health rules, the day, the base
    priority (SPEC 4: it chooses the meeting-cadence thresholds) and the labels."""

    account: Account
    rules: HealthRules
    today: date
    base_priority: int
    signals: LabelSignals = NO_SIGNALS

    def days_since(self, day: date) -> int:
        return self.today.toordinal() - day.toordinal()


@dataclass(frozen=True, slots=True)
class Reading:
    """A measure's value, its color (None: no data, left out) and its words."""

    value: object
    color: str | None
    note: str = ""


def _no_data(value: object) -> str:
    return "no data"


@dataclass(frozen=True, slots=True)
class MeasureDef:
    """One measure of the scorecard, defined once.

    * ``key``: what `assess --format json` and the triage results print (SPEC 7);
    * ``name``: what people read ("License utilization");
    * ``group``: one of :data:`GROUP_NAMES`; ``rank`` orders it inside its group;
    * ``compute``: the reading from the account, thresholds read from ``Inputs.rules``;
    * ``weight``: its weight in the group, from the rules (``rules.health.weights``);
    * ``unit``: a value in words with its unit ("22% of users active in the month"),
      also for a value read back as text (the dashboard reads the triage results);
    * ``reads``: the reading in words when the default (the note, else the value with
      its unit) does not fit;
    * ``steady``: the words the card and the issues quote, stable from day to day (a
      day count becomes the date it counts from); default: the note, else the unit;
    * ``risk_type``: the risk type (SPEC 6.1) a red reading points to, if any;
    * ``from_first_day``: it has data in the first days as a customer (SPEC 4: only
      the CSM's sentiment does);
    * ``counts_days``: its value is a day count ("days since the last call"), which moves
      every day by itself: the portfolio history does not keep it (it would write a row a
      day for every account).
    """

    key: str
    name: str
    group: str
    rank: int
    compute: Callable[[Inputs], Reading]
    weight: Callable[[HealthRules], float]
    unit: Callable[[object], str] = _no_data
    reads: Callable[[Measure], str] | None = None
    steady: Callable[[Measure, Account], str] | None = None
    risk_type: str | None = None
    from_first_day: bool = False
    counts_days: bool = False

    def __post_init__(self) -> None:
        if self.group not in GROUP_NAMES:
            raise ValueError(
                f"measure {self.key!r}: group must be one of {', '.join(GROUP_NAMES)}, "
                f"not {self.group!r}"
            )

    def text(self, m: Measure) -> str:
        """The reading in words: why there is no data, or the value with its unit."""
        if self.reads is not None:
            return self.reads(m)
        if m.note:
            return m.note
        if m.value is None:
            return "no data"
        return self.unit(m.value)

    def steady_text(self, m: Measure, account: Account) -> str:
        """The reading as the card and the issues quote it (no day counts)."""
        return self.text(m) if self.steady is None else self.steady(m, account)


def ratio_color(value: float, green_min: float, yellow_min: float) -> str:
    """Green at or above ``green_min``, yellow at or above ``yellow_min``, else red."""
    if value >= green_min:
        return GREEN
    return YELLOW if value >= yellow_min else RED


def plural(n: float, one: str, many: str) -> str:
    return f"{n:g} {one if n == 1 else many}"


def as_number(value: object) -> float | None:
    """A value as a number, also when read back as text ("0.45"); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def number_unit(words: Callable[[float], str]) -> Callable[[object], str]:
    """A measure's ``unit``: ``words`` of its value when it is a number (also read back
    as text, "0.45"), the value as it came otherwise."""

    def unit(value: object) -> str:
        n = as_number(value)
        return str(value) if n is None else words(n)

    return unit
