"""Every *(config)* default of SPEC sections 3-5, in one frozen dataclass tree.

The config file's `rules:` mapping overlays these defaults (`rules_from_mapping`);
`describe_rules` lists every dotted name with its default and meaning for the README.
Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import re
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
    # SPEC 4 voice group: support and NPS share it equally (handbook 002 names "high
    # scores on NPS surveys" next to support among the voice-of-the-customer signals).
    support: float = _f(50, "weight of support tickets in Voice of the customer")
    nps: float = _f(50, "weight of the latest NPS survey answer in Voice of the customer")


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


_COLORS = ("green", "yellow", "red")


@dataclass(frozen=True, slots=True)
class SupportThreshold:
    # handbook 002: 1-5 tickets a month green, 6-15 yellow, 16+ red.
    green_max_tickets: int = _f(5, "tickets in the last 30 days at or below which support is green")
    yellow_max_tickets: int = _f(
        15, "tickets in the last 30 days at or below which support is yellow"
    )
    # handbook 002: "an open emergency ticket" is red; SPEC 4 adds one closed in the last
    # 7 days to yellow.
    emergency_open: str = field(
        default="red",
        metadata={
            "doc": "support color while an emergency ticket is open (green, yellow, red)",
            "choices": _COLORS,
        },
    )
    emergency_closed_last_7_days: str = field(
        default="yellow",
        metadata={
            "doc": "support color, at most, after an emergency ticket closed in the last 7 days",
            "choices": _COLORS,
        },
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
    # handbook 002 key personas: both seen in the last 90 days green, one yellow, none red.
    persona_engagement: CountThreshold = field(
        default_factory=lambda: CountThreshold(2, 1),
        metadata={"doc": "key personas (engagement.personas_last_90_days)"},
    )
    support: SupportThreshold = _sub(SupportThreshold, "support tickets")
    # SPEC 4: NPS 9-10 green, 7-8 yellow, 0-6 red (the survey's promoters, passives and
    # detractors).
    nps: CountThreshold = field(
        default_factory=lambda: CountThreshold(9, 7), metadata={"doc": "nps (0-10)"}
    )
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
    # handbook 004: NPS surveys go out twice a year; a year-old answer is no longer news.
    nps: int = _f(365, "nps_as_of this many days old or more: NPS has no data")
    sentiment_stale: int = _f(90, "sentiment.updated this many days old or more: flagged stale")
    sentiment_no_data: int = _f(
        120, "sentiment.updated this many days old or more: sentiment has no data"
    )


@dataclass(frozen=True, slots=True)
class YellowFlags:
    # handbook 002: "more than a major release behind" (16.3 against 17.5 is, 16.5 is not).
    version_majors_behind: int = _f(
        1,
        "self-managed more than this many major releases behind latest (older than the same "
        "minor that many majors back) makes a green account yellow",
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
class EscalationUpdateDays:
    # SPEC 5.0: critical daily, high every 2 days, medium weekly, low none (null).
    critical: int | None = _f(1, "days between escalation updates, severity critical", lo=1)
    high: int | None = _f(2, "days between escalation updates, severity high", lo=1)
    medium: int | None = _f(7, "days between escalation updates, severity medium", lo=1)
    low: int | None = _f(None, "days between escalation updates, severity low", lo=1)


@dataclass(frozen=True, slots=True)
class CadenceRules:
    at_risk_update_days: AtRiskUpdateDays = _sub(AtRiskUpdateDays, "at-risk update reminders")
    stale_health_days: int = _f(
        30, "a yellow/red account whose sentiment label has not changed this long is stale"
    )
    escalation_update_days: EscalationUpdateDays = _sub(
        EscalationUpdateDays, "escalation update reminders (null = none)"
    )


# ---------------------------------------------------------------- SPEC 5.2: reminder kinds

#: The dates a reminder kind can count from. `onboarding_end` is the day onboarding
#: completed or its window closed; `fiscal_quarter` the first day of the current one.
ANCHORS: tuple[str, ...] = ("customer_since", "renewal_date", "onboarding_end", "fiscal_quarter")
#: The account team roles a reminder can be assigned to or mention (registry `team:`).
TEAM_ROLES: tuple[str, ...] = ("csm", "sa", "ae", "pse")
_KIND_NAME = re.compile(r"[a-z][a-z0-9-]*")


@dataclass(frozen=True, slots=True)
class ReminderKind:
    """One kind of reminder (SPEC 5.2): when it is due, when it is opened, what it says
    and whom it is for. Every kind runs through one engine (domain/reminders.py,
    services/triage/reminder_issues.py); a config entry under `rules.reminders` adds one."""

    name: str = _f("", "the kind's name: part of its marker key (lowercase, digits, -)")
    title: str = _f("", "the issue title, followed by the account (or the CSM)")
    anchor: str = field(
        default="customer_since",
        metadata={
            "doc": "the date the kind counts from: " + ", ".join(ANCHORS),
            "choices": ANCHORS,
        },
    )
    months: tuple[int, ...] = field(
        default=(0,),
        metadata={
            "doc": "the stages: months after the anchor each is due (negative: before)",
            "lo": None,
        },
    )
    every_months: int = _f(0, "the stages repeat every this many months (0: once)")
    days_after: int = _f(0, "days added to each stage's date")
    window_months: int = _f(
        0, "stages exist only while the anchor is within this many months ahead (0: always)"
    )
    lead_days: int | None = _f(
        None, "opened this many days before it is due (null: as soon as the stage exists)"
    )
    grace_days: int | None = _f(
        None, "a stage past due by this many days is no longer posted (null: posted late)"
    )
    post: str = field(
        default="issue",
        metadata={
            "doc": "issue (in the accounts project) or note (on the tracking issue)",
            "choices": ("issue", "note"),
        },
    )
    template: str = _f("reminder_review.md.j2", "the issue template (issue_templates/)")
    assignee: str = field(
        default="csm",
        metadata={"doc": "the team role it is assigned to", "choices": TEAM_ROLES},
    )
    mentions: tuple[str, ...] = field(
        default=(),
        metadata={"doc": "the team roles it mentions", "choices": TEAM_ROLES},
    )
    per: str = field(
        default="account",
        metadata={
            "doc": "account (one per account) or csm (one per CSM listing their book)",
            "choices": ("account", "csm"),
        },
    )
    segments: tuple[str, ...] = field(
        default=(),
        metadata={"doc": "the segments it is for (empty: every segment)"},
    )
    digital: bool = _f(True, "whether digital (unmanaged) accounts get it")
    card: str = _f("", "the label of its next date on the account card (empty: not shown)")


_REMINDER_KINDS = (
    # handbook 004: a renewal within six months gets two Renewal Review meetings, five
    # and three months out; both issues are opened once the renewal is within six months.
    ReminderKind(
        name="renewal-review",
        title="Renewal review",
        anchor="renewal_date",
        months=(-5, -3),
        window_months=6,
        template="reminder_renewal_review.md.j2",
        mentions=("ae", "sa"),
        card="Next renewal review",
    ),
    # handbook 003: "We hold the business review at month 6", then at least once per year
    # (handbook 004). SPEC 5.2 is silent on the lead time: a quarter gives the CSM time
    # to book the customer's executives.
    ReminderKind(
        name="ebr",
        title="Executive Business Review",
        anchor="customer_since",
        months=(6,),
        every_months=12,
        lead_days=90,
        template="reminder_ebr.md.j2",
        mentions=("ae",),
        card="Next EBR",
    ),
    # handbook 001: priorities are reviewed quarterly, coinciding with QBRs, early in the
    # quarter: one issue per CSM listing their book.
    ReminderKind(
        name="priority-review",
        title="Priority review",
        anchor="fiscal_quarter",
        months=(0,),
        every_months=3,
        days_after=30,
        template="reminder_priority_review.md.j2",
        per="csm",
        digital=False,
        card="Priority review",
    ),
    # handbook 001: "Once onboarding is complete, the customer's prioritization should be
    # reassessed": one note on the tracking issue; an account whose onboarding ended long
    # ago (a month) gets none.
    ReminderKind(
        name="onboarding-end",
        title="End of onboarding",
        anchor="onboarding_end",
        months=(0,),
        lead_days=0,
        grace_days=30,
        post="note",
        template="note_onboarding_end.md.j2",
        card="End of onboarding",
    ),
)


@dataclass(frozen=True, slots=True)
class PacingRules:
    issues_per_minute: int = _f(200, "at most this many issues created a minute (0 = no pacing)")
    notes_per_minute: int = _f(60, "at most this many notes created a minute (0 = no pacing)")
    # GitLab.com allows 2,000 API requests a minute per user
    # (doc/user/gitlab_com/rate_limits.md); a few readers stay far below it.
    read_workers: int = _f(
        4, "listing pages read at once (1 = one at a time); writes stay in order", lo=1, hi=16
    )
    # A server that trickles its answer (or a wrong URL that never ends) must
    # not hang a run: socket timeouts restart with every byte, this bounds the whole.
    request_deadline_seconds: int = _f(
        60,
        "longest a single GitLab request may take, connect to last byte (not retried)",
        lo=1,
        hi=3600,
    )


@dataclass(frozen=True, slots=True)
class PromoteRules:
    # SPEC 5 Promote: the daily triage notices a paid account whose project is still in
    # the pre-sales group (handbook 001: "Until the account becomes a paying customer
    # the project remains in pre-sales").
    when_paid: str = field(
        default="ask",
        metadata={
            "doc": "a paid account still in pre-sales: ask (tell the AE and CSM once that "
            "action::promote moves it) or auto (promote in the same triage run)",
            "choices": ("ask", "auto"),
        },
    )


@dataclass(frozen=True, slots=True)
class CollaborationRules:
    # SPEC 4.1, handbook 001: "Make sure you are responding in a timely manner to
    # customer's open issues".
    reply_days: int = _f(
        2,
        "business days a customer's open issue may wait for the team's reply before the CSM "
        "is told on the tracking issue",
        lo=1,
    )


@dataclass(frozen=True, slots=True)
class HistoryRules:
    # SPEC 5 Portfolio view; handbook 000 "trend patterns": the score's trend on the card
    # and in the report, and each measure's change the card and the report compare.
    trend_days: int = _f(30, "days the card's and the report's score trend spans", lo=1)
    measure_days: int = _f(
        90,
        "days the card compares each measure with, and after which the report lists an "
        "account whose product usage has not risen",
        lo=1,
    )


@dataclass(frozen=True, slots=True)
class ReportRules:
    # SPEC 5 Portfolio view: the summary issue is one issue description, which GitLab caps
    # at 1,048,576 characters (app/models/concerns/issuable.rb DESCRIPTION_LENGTH_MAX);
    # 100 rows a table keep 5,000 accounts near a sixth of it (benchmarks/bench_report.py).
    max_rows: int = _f(
        100,
        "rows each table of the summary issue lists, the most important first; one line "
        "under the table counts the rest and their ARR (the dashboard lists every account)",
        lo=1,
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

    promote: PromoteRules = _sub(PromoteRules, "a paid account still in pre-sales (SPEC 5)")
    collaboration: CollaborationRules = _sub(
        CollaborationRules, "evidence from the collaboration projects (SPEC 4.1)"
    )
    history: HistoryRules = _sub(HistoryRules, "portfolio history (SPEC 5 Portfolio view)")
    report: ReportRules = _sub(ReportRules, "the summary issue (SPEC 5 Portfolio view)")
    reminders: tuple[ReminderKind, ...] = field(
        default=_REMINDER_KINDS,
        metadata={"doc": "reminder kinds by name (SPEC 5.2); a new name adds a kind"},
    )

    def reminder(self, name: str) -> ReminderKind:
        """The reminder kind called ``name`` (KeyError when the table has none)."""
        for kind in self.reminders:
            if kind.name == name:
                return kind
        raise KeyError(name)


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
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {_show(value)}")
        return value
    if tp is str:
        choices = meta.get("choices")
        if not isinstance(value, str) or (choices and value not in choices):
            expected = f"one of: {', '.join(choices)}" if choices else "a text"
            raise ConfigError(f"{key}: expected {expected}, got {_show(value)}")
        return value
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
        if dataclasses.is_dataclass(item_tp) and isinstance(value, Mapping):
            return _overlay_named(item_tp, default, value, key)
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


#: Keys of earlier versions, and where their values live now.
_MOVED = {
    "rules.cadence.renewal_review": "rules.reminders.renewal-review "
    "(window_months; months: the stages as negative months before the renewal)",
    "rules.cadence.ebr": "rules.reminders.ebr (months: [first_after_months]; every_months)",
}


def _overlay_named(cls: Any, default: Any, mapping: Mapping[Any, Any], key: str) -> tuple:
    """A table of named entries (reminder kinds) given as ``{name: {field: value}}``: a
    known name overlays its entry, a new name adds one (its title is required)."""
    entries = {entry.name: entry for entry in default}
    for name, value in mapping.items():
        where = f"{key}.{name}"
        if not isinstance(name, str) or not _KIND_NAME.fullmatch(name):
            raise ConfigError(
                f"{where}: expected a name of lowercase letters, digits and -, got {_show(name)}"
            )
        if isinstance(value, Mapping) and "name" in value:
            raise ConfigError(f"{where}.name: the name is the key above, not a field")
        base = entries.get(name, cls(name=name))
        entry = _overlay(cls, base, value, where)
        if not entry.title:
            raise ConfigError(f"{where}.title: expected a text (a new kind needs a title)")
        entries[name] = entry
    return tuple(entries.values())


def _overlay(cls: Any, base: Any, mapping: object, prefix: str) -> Any:
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"{prefix}: expected a mapping, got {_show(mapping)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = _hints(cls)
    changes: dict[str, Any] = {}
    for name, value in mapping.items():
        key = f"{prefix}.{name}"
        if key in _MOVED:
            raise ConfigError(f"{key}: moved to {_MOVED[key]}")
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
    pair(
        "health.thresholds.persona_engagement",
        th.persona_engagement.yellow_min,
        th.persona_engagement.green_min,
    )
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
    for kind in rules.reminders:
        where = f"rules.reminders.{kind.name}"
        if not kind.months:
            raise ConfigError(f"{where}.months: expected at least one stage")
        if len({abs(m) for m in kind.months}) != len(kind.months):
            # A stage is named by its distance from the anchor (the marker key).
            raise ConfigError(f"{where}.months: expected stages at different distances")
        if kind.per == "csm" and kind.anchor != "fiscal_quarter":
            raise ConfigError(
                f"{where}.anchor: a reminder per CSM counts from fiscal_quarter, "
                f"got {kind.anchor!r}"
            )
        if kind.post == "note" and kind.per != "account":
            raise ConfigError(f"{where}.post: a note goes on an account's tracking issue")
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
        elif isinstance(value, tuple) and value and hasattr(value[0], "name"):
            # A named table: each entry's fields, `key.NAME.field`.
            for entry in value:
                rows = _walk(entry, f"{key}.{entry.name}.", doc)
                yield from (row for row in rows if row[0] != f"{key}.{entry.name}.name")
        elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
            yield key, [dataclasses.asdict(v) for v in value], doc
        elif isinstance(value, tuple):
            yield key, list(value), doc
        else:
            yield key, value, doc


def describe_rules() -> list[tuple[str, object, str]]:
    """(dotted name under `rules:`, default, meaning) for every rule, in tree order."""
    return list(_walk(DEFAULT_RULES, "", ""))
