"""Every *(config)* default of SPEC sections 3-5, in one frozen dataclass tree.

The config file's `rules:` mapping overlays these defaults (`rules_from_mapping`);
`describe_rules` lists every dotted name with its default and meaning for the README.
Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from gl_csm.errors import ConfigError

_NO_MAX = None


def _f(default: Any, doc: str, *, lo: float | None = 0, hi: float | None = _NO_MAX) -> Any:
    """A rule field: its default, what it means (for the README) and its valid range."""
    return field(default=default, metadata={"doc": doc, "lo": lo, "hi": hi})


def _sub(cls: type, doc: str) -> Any:
    return field(default_factory=cls, metadata={"doc": doc})


# ---------------------------------------------------------------- SPEC 3: priority


@dataclass(frozen=True, slots=True)
class OnboardingWindowDays:
    # handbook 001: strategic "first 60 days of onboarding"; commercial "first 45 days".
    strategic: int = _f(60, "days after customer_since a strategic account is in onboarding")
    growth: int = _f(60, "days after customer_since a growth account is in onboarding")
    scale: int = _f(60, "days after customer_since a scale account is in onboarding")
    commercial: int = _f(45, "days after customer_since a commercial account is in onboarding")

    def for_segment(self, segment: str) -> int:
        return int(getattr(self, segment))


@dataclass(frozen=True, slots=True)
class StrategicPriority:
    # handbook 001: Strategic prioritization model (uptier in 3 months, ARR limit).
    p1_arr: float = _f(500000, "ARR (USD) at or above which a strategic account is P1")
    uptier_months: int = _f(3, "an uptier opportunity closing within this many months makes P1")


@dataclass(frozen=True, slots=True)
class GrowthPriority:
    # handbook 001: Growth accounts, "user growth and/or uptier within the next 6 months".
    opportunity_months: int = _f(
        6, "an uptier or growth opportunity closing within this many months makes P1"
    )


@dataclass(frozen=True, slots=True)
class CommercialPriority:
    # handbook 001: Commercial qualification criteria.
    p1_arr: float = _f(200000, "ARR (USD) at or above which a commercial account is P1")
    min_stages: int = _f(2, "fewer stages_adopted than this makes a commercial account P1")
    opportunity_months: int = _f(
        3, "an uptier or growth opportunity closing within this many months makes P1"
    )
    uptier_months: int = _f(9, "an uptier opportunity closing within this many months makes P1")
    p1_nps_max: int = _f(6, "an NPS at or below this makes a commercial account P1", hi=10)


@dataclass(frozen=True, slots=True)
class PriorityRules:
    strategic: StrategicPriority = _sub(StrategicPriority, "strategic segment")
    growth: GrowthPriority = _sub(GrowthPriority, "growth segment")
    commercial: CommercialPriority = _sub(CommercialPriority, "commercial segment")


@dataclass(frozen=True, slots=True)
class BookBalanceRules:
    # handbook 001: "roughly one third" P1 for strategic; growth "no more than 20%".
    strategic_p1_min_pct: float = _f(25, "warn when a strategic book has fewer % P1", hi=100)
    strategic_p1_max_pct: float = _f(45, "warn when a strategic book has more % P1", hi=100)
    growth_p1_max_pct: float = _f(20, "warn when a growth book has more % P1", hi=100)


# ---------------------------------------------------------------- SPEC 4: health


@dataclass(frozen=True, slots=True)
class GroupWeights:
    product: float = _f(50, "weight of the Product group")
    risk: float = _f(25, "weight of the Risk group")
    outcomes: float = _f(10, "weight of the Outcomes group")
    voice: float = _f(5, "weight of the Voice of the customer group")
    engagement: float = _f(10, "weight of the Engagement group")


@dataclass(frozen=True, slots=True)
class ProductWeights:
    license_utilization: float = _f(30, "weight of license utilization in Product")
    user_engagement: float = _f(10, "weight of user engagement (monthly active) in Product")
    scm: float = _f(15, "weight of SCM usage in Product")
    ci: float = _f(15, "weight of CI usage in Product")
    devsecops: float = _f(15, "weight of DevSecOps usage in Product")
    cd: float = _f(15, "weight of CD usage in Product")


@dataclass(frozen=True, slots=True)
class RiskWeights:
    sentiment: float = _f(100, "weight of CSM sentiment in Risk")


@dataclass(frozen=True, slots=True)
class OutcomesWeights:
    success_plan: float = _f(100, "weight of success plan objectives in Outcomes")


@dataclass(frozen=True, slots=True)
class VoiceWeights:
    support: float = _f(100, "weight of support tickets in Voice of the customer")


@dataclass(frozen=True, slots=True)
class EngagementWeights:
    meeting_cadence: float = _f(50, "weight of meeting cadence in Engagement")
    persona_engagement: float = _f(50, "weight of persona engagement in Engagement")


@dataclass(frozen=True, slots=True)
class HealthWeights:
    product: ProductWeights = _sub(ProductWeights, "measures of the Product group")
    risk: RiskWeights = _sub(RiskWeights, "measures of the Risk group")
    outcomes: OutcomesWeights = _sub(OutcomesWeights, "measures of the Outcomes group")
    voice: VoiceWeights = _sub(VoiceWeights, "measures of the Voice of the customer group")
    engagement: EngagementWeights = _sub(EngagementWeights, "measures of the Engagement group")


@dataclass(frozen=True, slots=True)
class RatioThreshold:
    """Green at or above `green_min`, yellow at or above `yellow_min`, else red."""

    green_min: float = _f(0.5, "share (0..1) at or above which the measure is green", hi=1)
    yellow_min: float = _f(0.25, "share (0..1) at or above which the measure is yellow", hi=1)


@dataclass(frozen=True, slots=True)
class LicenseBand:
    """Utilization colors from `from_month` months a customer until the next band."""

    from_month: int = _f(2, "first month (months a customer) this band applies to")
    green_min_pct: int = _f(51, "whole % at or above which utilization is green", hi=1000)
    yellow_min_pct: int = _f(10, "whole % at or above which utilization is yellow", hi=1000)


# handbook 002 / SPEC 4: months 2-6 green > 50 %, yellow 10-50 %; 6-9 green > 75 %,
# yellow 51-75 %, red <= 50 %; 9+ green > 75 %, red <= 75 % (no yellow band).
_LICENSE_BANDS = (
    LicenseBand(from_month=2, green_min_pct=51, yellow_min_pct=10),
    LicenseBand(from_month=6, green_min_pct=76, yellow_min_pct=51),
    LicenseBand(from_month=9, green_min_pct=76, yellow_min_pct=76),
)


@dataclass(frozen=True, slots=True)
class LicenseUtilizationRules:
    bands: tuple[LicenseBand, ...] = field(
        default=_LICENSE_BANDS,
        metadata={
            "doc": "list of {from_month, green_min_pct, yellow_min_pct}; months a customer "
            "before the first band have no data"
        },
    )


@dataclass(frozen=True, slots=True)
class CountThreshold:
    """Green at or above `green_min`, yellow at or above `yellow_min`, else red."""

    green_min: int = _f(3, "count at or above which the measure is green")
    yellow_min: int = _f(1, "count at or above which the measure is yellow")


@dataclass(frozen=True, slots=True)
class SupportThreshold:
    # handbook 002: 1-5 tickets a month green, 6-15 yellow, 16+ red.
    green_max_tickets: int = _f(5, "tickets in the last 30 days at or below which support is green")
    yellow_max_tickets: int = _f(
        15, "tickets in the last 30 days at or below which support is yellow"
    )


@dataclass(frozen=True, slots=True)
class CadenceDays:
    green_max_days: int = _f(65, "days since the last call at or below which it is green")
    yellow_max_days: int = _f(90, "days since the last call at or below which it is yellow")


@dataclass(frozen=True, slots=True)
class MeetingCadenceThresholds:
    # SPEC 4: by base priority, P1 <= 35 / <= 60 days, P2+ <= 65 / <= 90 days.
    p1: CadenceDays = field(
        default_factory=lambda: CadenceDays(35, 60), metadata={"doc": "base priority 1"}
    )
    p2: CadenceDays = _sub(CadenceDays, "base priority 2")
    p3: CadenceDays = _sub(CadenceDays, "base priority 3")
    p4: CadenceDays = _sub(CadenceDays, "base priority 4")

    def for_priority(self, priority: int) -> CadenceDays:
        return (self.p1, self.p2, self.p3, self.p4)[min(max(priority, 1), 4) - 1]


@dataclass(frozen=True, slots=True)
class HealthThresholds:
    license_utilization: LicenseUtilizationRules = _sub(
        LicenseUtilizationRules, "license utilization by months a customer"
    )
    user_engagement: RatioThreshold = field(
        default_factory=lambda: RatioThreshold(0.50, 0.25),
        metadata={"doc": "usage.monthly_active"},
    )
    scm: RatioThreshold = field(
        default_factory=lambda: RatioThreshold(0.40, 0.20), metadata={"doc": "usage.scm"}
    )
    ci: RatioThreshold = field(
        default_factory=lambda: RatioThreshold(0.25, 0.125), metadata={"doc": "usage.ci"}
    )
    devsecops: RatioThreshold = field(
        default_factory=lambda: RatioThreshold(0.20, 0.10), metadata={"doc": "usage.devsecops"}
    )
    cd: RatioThreshold = field(
        default_factory=lambda: RatioThreshold(0.20, 0.10), metadata={"doc": "usage.cd"}
    )
    success_plan: CountThreshold = _sub(CountThreshold, "success_plan.objectives")
    support: SupportThreshold = _sub(SupportThreshold, "support tickets")
    meeting_cadence: MeetingCadenceThresholds = _sub(
        MeetingCadenceThresholds, "days since engagement.last_call"
    )


@dataclass(frozen=True, slots=True)
class ScoreThresholds:
    green_min: float = _f(75, "account score at or above which health is green", hi=100)
    yellow_min: float = _f(50, "account score at or above which health is yellow", hi=100)


@dataclass(frozen=True, slots=True)
class ColorScores:
    green: float = _f(100, "score of a green measure", hi=100)
    yellow: float = _f(60, "score of a yellow measure", hi=100)
    red: float = _f(0, "score of a red measure", hi=100)


@dataclass(frozen=True, slots=True)
class StalenessDays:
    new_customer_no_data: int = _f(
        30, "days after customer_since during which no measure but sentiment has data"
    )
    usage: int = _f(60, "usage.as_of this many days old or more: usage measures have no data")
    support: int = _f(30, "support.as_of this many days old or more: support has no data")
    sentiment_stale: int = _f(90, "sentiment.updated this many days old or more: flagged stale")
    sentiment_no_data: int = _f(
        120, "sentiment.updated this many days old or more: sentiment has no data"
    )


@dataclass(frozen=True, slots=True)
class YellowFlags:
    # handbook 002: "more than a major release behind"; SPEC 4 makes it two or more.
    version_majors_behind: int = _f(
        2, "self-managed this many major versions behind latest makes a green account yellow"
    )
    single_contact: int = _f(
        1, "engagement.contacts equal to this makes a green account yellow (single-threaded)"
    )


@dataclass(frozen=True, slots=True)
class HealthRules:
    weights: HealthWeights = _sub(HealthWeights, "measure weights within each group")
    group_weights: GroupWeights = _sub(GroupWeights, "group weights in the account score")
    thresholds: HealthThresholds = _sub(HealthThresholds, "measure color thresholds")
    score: ScoreThresholds = _sub(ScoreThresholds, "account score thresholds")
    color_scores: ColorScores = _sub(ColorScores, "score of each measure color")
    staleness_days: StalenessDays = _sub(StalenessDays, "when data counts as stale")
    yellow_flags: YellowFlags = _sub(YellowFlags, "handbook yellow flags")


# ---------------------------------------------------------------- SPEC 5: cadences


@dataclass(frozen=True, slots=True)
class AtRiskUpdateDays:
    # handbook 002: weekly when the renewal is this fiscal quarter or next, else monthly.
    renewal_soon: int = _f(
        7, "days between at-risk updates when the renewal is in the current or next fiscal quarter"
    )
    otherwise: int = _f(30, "days between at-risk updates otherwise")


@dataclass(frozen=True, slots=True)
class RenewalReviewRules:
    # handbook 004: renewal within six months -> reviews five and three months out.
    window_months: int = _f(6, "renewals within this many months get renewal reviews")
    months_before: tuple[int, ...] = field(
        default=(5, 3),
        metadata={"doc": "renewal review issues are due this many months before renewal"},
    )


@dataclass(frozen=True, slots=True)
class EbrRules:
    # handbook 003: "We hold the business review at month 6", then yearly (handbook 001).
    first_after_months: int = _f(6, "first EBR due this many months after customer_since")
    every_months: int = _f(12, "later EBRs every this many months")


@dataclass(frozen=True, slots=True)
class EscalationUpdateDays:
    # SPEC 5.0: critical daily, high every 2 days, medium weekly, low none (null).
    critical: int | None = _f(1, "days between escalation updates, severity critical", lo=1)
    high: int | None = _f(2, "days between escalation updates, severity high", lo=1)
    medium: int | None = _f(7, "days between escalation updates, severity medium", lo=1)
    low: int | None = _f(None, "days between escalation updates, severity low", lo=1)


@dataclass(frozen=True, slots=True)
class CadenceRules:
    at_risk_update_days: AtRiskUpdateDays = _sub(AtRiskUpdateDays, "at-risk update reminders")
    renewal_review: RenewalReviewRules = _sub(RenewalReviewRules, "renewal review issues")
    ebr: EbrRules = _sub(EbrRules, "executive business review issues")
    stale_health_days: int = _f(
        30, "a yellow/red account whose sentiment label has not changed this long is stale"
    )
    escalation_update_days: EscalationUpdateDays = _sub(
        EscalationUpdateDays, "escalation update reminders (null = none)"
    )


@dataclass(frozen=True, slots=True)
class PacingRules:
    issues_per_minute: int = _f(200, "at most this many issues created a minute (0 = no pacing)")
    notes_per_minute: int = _f(60, "at most this many notes created a minute (0 = no pacing)")
    # issue 13: GitLab.com allows 2,000 API requests a minute per user
    # (doc/user/gitlab_com/rate_limits.md); a few readers stay far below it.
    read_workers: int = _f(
        4, "listing pages read at once (1 = one at a time); writes stay in order", lo=1, hi=16
    )
    # issue 10: a server that trickles its answer (or a wrong URL that never ends) must
    # not hang a run: socket timeouts restart with every byte, this bounds the whole.
    request_deadline_seconds: int = _f(
        60,
        "longest a single GitLab request may take, connect to last byte (not retried)",
        lo=1,
        hi=3600,
    )


@dataclass(frozen=True, slots=True)
class Rules:
    onboarding_window_days: OnboardingWindowDays = _sub(
        OnboardingWindowDays, "onboarding window per segment"
    )
    priority: PriorityRules = _sub(PriorityRules, "priority (SPEC 3)")
    book_balance: BookBalanceRules = _sub(BookBalanceRules, "book balance report (SPEC 3)")
    health: HealthRules = _sub(HealthRules, "health scorecard (SPEC 4)")
    cadence: CadenceRules = _sub(CadenceRules, "cadences (SPEC 5)")
    fiscal_year_start_month: int = _f(2, "month (1-12) the fiscal year starts in", lo=1, hi=12)
    pacing: PacingRules = _sub(PacingRules, "write pacing")
    # A promote transfers the collaboration project and changes members: an Owner's or
    # Maintainer's act, while anyone with Planner or Reporter access may add a label
    # (doc/user/permissions.md). GitLab access levels: 30 Developer, 40 Maintainer, 50 Owner.
    promote_min_access_level: int = _f(
        40,
        "access level (30 Developer, 40 Maintainer, 50 Owner) on the accounts project that "
        "the person who adds action::promote needs; below it the label is taken back with a "
        "note",
        lo=10,
        hi=50,
    )


DEFAULT_RULES = Rules()


# ---------------------------------------------------------------- overlay / describe


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _range_text(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f" between {_num(lo)} and {_num(hi)}"
    if lo is not None:
        return f" >= {_num(lo)}"
    return ""


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _show(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _convert(key: str, tp: Any, meta: Mapping[str, Any], value: object, default: object) -> Any:
    """Check `value` against the field type `tp`; return the converted value."""
    lo, hi = meta.get("lo", 0), meta.get("hi")
    args = typing.get_args(tp)
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _overlay(tp, default, value, key)
    optional = type(None) in args and origin is not tuple
    if optional:
        if value is None:
            return None
        tp = next(a for a in args if a is not type(None))
    if tp is int or tp is float:
        is_int = isinstance(value, int) and not isinstance(value, bool)
        ok = is_int or (tp is float and isinstance(value, float))
        if ok and lo is not None and value < lo:  # type: ignore[operator]
            ok = False
        if ok and hi is not None and value > hi:  # type: ignore[operator]
            ok = False
        if not ok:
            what = "an integer" if tp is int else "a number"
            null = " or null" if optional else ""
            raise ConfigError(
                f"{key}: expected {what}{_range_text(lo, hi)}{null}, got {_show(value)}"
            )
        return value
    if typing.get_origin(tp) is tuple:
        item_tp = typing.get_args(tp)[0]
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{key}: expected a list, got {_show(value)}")
        if dataclasses.is_dataclass(item_tp):
            # A list replaces the default list, so each item must be complete.
            names = [f.name for f in dataclasses.fields(item_tp)]
            for i, v in enumerate(value):
                missing = [n for n in names if isinstance(v, Mapping) and n not in v]
                if missing:
                    raise ConfigError(f"{key}[{i}]: missing key {missing[0]!r}")
            items = tuple(
                _overlay(item_tp, item_tp(), v, f"{key}[{i}]") for i, v in enumerate(value)
            )
        else:
            items = tuple(
                _convert(f"{key}[{i}]", item_tp, meta, v, None) for i, v in enumerate(value)
            )
        return items
    raise ConfigError(f"{key}: unsupported rule type")  # pragma: no cover - programming error


def _overlay(cls: Any, base: Any, mapping: object, prefix: str) -> Any:
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"{prefix}: expected a mapping, got {_show(mapping)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = _hints(cls)
    changes: dict[str, Any] = {}
    for name, value in mapping.items():
        key = f"{prefix}.{name}"
        if name not in fields:
            known = ", ".join(fields)
            raise ConfigError(f"{key}: unknown key (expected one of: {known})")
        f = fields[name]
        changes[name] = _convert(key, hints[name], f.metadata, value, getattr(base, name))
    return dataclasses.replace(base, **changes) if changes else base


def _check(rules: Rules) -> None:
    """Cross-field checks: thresholds that would make a color unreachable by mistake."""

    def pair(key: str, low: float, high: float) -> None:
        if low > high:
            raise ConfigError(f"rules.{key}: the yellow bound must not be above the green bound")

    th = rules.health.thresholds
    for name in ("user_engagement", "scm", "ci", "devsecops", "cd"):
        t: RatioThreshold = getattr(th, name)
        pair(f"health.thresholds.{name}", t.yellow_min, t.green_min)
    pair("health.thresholds.success_plan", th.success_plan.yellow_min, th.success_plan.green_min)
    pair("health.score", rules.health.score.yellow_min, rules.health.score.green_min)
    if th.support.green_max_tickets > th.support.yellow_max_tickets:
        raise ConfigError(
            "rules.health.thresholds.support: green_max_tickets must not exceed yellow_max_tickets"
        )
    for p in ("p1", "p2", "p3", "p4"):
        c: CadenceDays = getattr(th.meeting_cadence, p)
        if c.green_max_days > c.yellow_max_days:
            raise ConfigError(
                f"rules.health.thresholds.meeting_cadence.{p}: "
                "green_max_days must not exceed yellow_max_days"
            )
    bands = th.license_utilization.bands
    for i, band in enumerate(bands):
        pair(
            f"health.thresholds.license_utilization.bands[{i}]",
            band.yellow_min_pct,
            band.green_min_pct,
        )
        if i and band.from_month <= bands[i - 1].from_month:
            raise ConfigError(
                f"rules.health.thresholds.license_utilization.bands[{i}].from_month: "
                "expected bands in increasing from_month order"
            )
    bb = rules.book_balance
    if bb.strategic_p1_min_pct > bb.strategic_p1_max_pct:
        raise ConfigError("rules.book_balance: strategic_p1_min_pct exceeds strategic_p1_max_pct")
    sd = rules.health.staleness_days
    if sd.sentiment_stale > sd.sentiment_no_data:
        raise ConfigError(
            "rules.health.staleness_days: sentiment_stale must not exceed sentiment_no_data"
        )


def rules_from_mapping(mapping: Mapping[str, object] | None) -> Rules:
    """Overlay the config file's `rules:` mapping (partial, nested) on the defaults.

    Raises ConfigError naming the full key (`rules.health.weights.product.scm: ...`).
    """
    if mapping is None:
        return DEFAULT_RULES
    rules: Rules = _overlay(Rules, DEFAULT_RULES, mapping, "rules")
    _check(rules)
    return rules


# Generic leaf classes whose meaning depends on where they sit: describe_rules adds the
# parent's meaning to theirs.
_GENERIC = (RatioThreshold, CountThreshold, CadenceDays)


def _walk(obj: Any, prefix: str, context: str) -> Iterator[tuple[str, object, str]]:
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{prefix}{f.name}"
        doc = f.metadata.get("doc", "")
        if isinstance(obj, _GENERIC) and context:
            doc = f"{context}: {doc}"
        if dataclasses.is_dataclass(value):
            yield from _walk(value, key + ".", doc)
        elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
            yield key, [dataclasses.asdict(v) for v in value], doc
        elif isinstance(value, tuple):
            yield key, list(value), doc
        else:
            yield key, value, doc


def describe_rules() -> list[tuple[str, object, str]]:
    """(dotted name under `rules:`, default, meaning) for every rule, in tree order."""
    return list(_walk(DEFAULT_RULES, "", ""))
