"""Health (SPEC section 4): weighted scorecard, staleness, overrides.

Modelled on GitLab's customer health scoring (handbook 002 links it): five groups of
measures, each measure a color, colors scored, weighted means up to an account score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gl_csm.domain.account import Account
from gl_csm.domain.cadence import whole_months_between
from gl_csm.domain.rules import CadenceDays, HealthRules, RatioThreshold, Rules

GREEN, YELLOW, RED, UNKNOWN = "green", "yellow", "red", "unknown"
_RANK = {GREEN: 0, YELLOW: 1, RED: 2}

# Groups and their measures in the order of SPEC 4's table.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("product", ("license_utilization", "user_engagement", "scm", "ci", "devsecops", "cd")),
    ("risk", ("sentiment",)),
    ("outcomes", ("success_plan",)),
    ("voice", ("support", "nps")),
    ("engagement", ("meeting_cadence", "persona_engagement")),
)
_USAGE_MEASURES = ("user_engagement", "scm", "ci", "devsecops", "cd")
_USAGE_FIELDS = {"user_engagement": "monthly_active"}


@dataclass(frozen=True, slots=True)
class LabelSignals:
    """What people said through labels on the account's tracking issue (SPEC 4).

    `sentiment` is the `sentiment::COLOR` label (newer than the registry, treated as
    fresh); `triage_needed` is the `triage::needed` label (forces needs triage).
    """

    sentiment: str | None = None
    triage_needed: bool = False

    def __post_init__(self) -> None:
        if self.sentiment is not None and self.sentiment not in _RANK:
            raise ValueError(f"sentiment must be green, yellow or red, not {self.sentiment!r}")


NO_SIGNALS = LabelSignals()


@dataclass(frozen=True, slots=True)
class Measure:
    """One row of the scorecard. `color` None means no data (left out)."""

    name: str
    group: str
    value: object
    color: str | None
    weight: float  # configured weight within the group
    applied_weight: float  # % of the group after sharing out missing weights; 0 = no data
    note: str = ""  # why there is no data, or a stale flag, for the card

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


def _ratio_color(value: float, t: RatioThreshold) -> str:
    if value >= t.green_min:
        return GREEN
    return YELLOW if value >= t.yellow_min else RED


def _cadence_color(days: int, t: CadenceDays) -> str:
    if days <= t.green_max_days:
        return GREEN
    return YELLOW if days <= t.yellow_max_days else RED


def utilization_pct(active: int, licensed: int) -> int:
    """Utilization as a whole percent, half up (SPEC 4 compares the rounded value)."""
    # Integer arithmetic: 101/200 is exactly 50.5 % and must round to 51.
    return (active * 200 + licensed) // (2 * licensed)


def months_a_customer(since: date, today: date) -> int:
    """SPEC 4: whole calendar months since `customer_since` (0 before it)."""
    return max(whole_months_between(since, today), 0)


def _license(account: Account, h: HealthRules, today: date) -> tuple[object, str | None, str]:
    seats = account.seats
    if seats.licensed is None or seats.active is None or seats.licensed == 0:
        return None, None, "no seat data"
    pct = utilization_pct(seats.active, seats.licensed)
    since = account.customer_since
    assert since is not None
    months = months_a_customer(since, today)
    band = None
    for b in h.thresholds.license_utilization.bands:
        if months >= b.from_month:
            band = b
    if band is None:
        # handbook 002 / SPEC 4: months 0-2 as a customer give no utilization data.
        return pct, None, f"{months} months a customer: too early for utilization"
    if pct >= band.green_min_pct:
        color = GREEN
    elif pct >= band.yellow_min_pct:
        color = YELLOW
    else:
        color = RED
    return pct, color, f"{pct}% of seats active after {months} months"


def _support(account: Account, h: HealthRules, today: date) -> tuple[object, str | None, str]:
    s = account.support
    if s.as_of is not None and today.toordinal() - s.as_of.toordinal() >= h.staleness_days.support:
        return s.tickets_last_30_days, None, f"support data of {s.as_of.isoformat()} is stale"
    t = h.thresholds.support
    tickets = s.tickets_last_30_days
    # handbook 002: 16+ tickets a month red, an open emergency red; 6-15 yellow, none
    # opened after being advised to yellow; SPEC 4 adds a recent emergency to yellow.
    if s.emergency_open:
        return tickets, t.emergency_open, "an emergency ticket is open"
    if tickets is not None and tickets > t.yellow_max_tickets:
        return tickets, RED, f"{tickets} tickets in the last 30 days"
    if s.emergency_closed_last_7_days and t.emergency_closed_last_7_days != GREEN:
        return (
            tickets,
            t.emergency_closed_last_7_days,
            "an emergency ticket closed in the last 7 days",
        )
    if tickets is None:
        return None, None, "no support data"
    if tickets > t.green_max_tickets:
        return tickets, YELLOW, f"{tickets} tickets in the last 30 days"
    if tickets == 0 and s.advised_no_ticket:
        return tickets, YELLOW, "no ticket opened after being advised to contact Support"
    return tickets, GREEN, f"{tickets} tickets in the last 30 days"


def _nps(account: Account, h: HealthRules, today: date) -> tuple[object, str | None, str]:
    score, as_of = account.nps, account.nps_as_of
    if score is None:
        return None, None, "no NPS survey answer"
    if as_of is not None and today.toordinal() - as_of.toordinal() >= h.staleness_days.nps:
        return score, None, f"NPS survey of {as_of.isoformat()} is too old"
    t = h.thresholds.nps
    color = GREEN if score >= t.green_min else YELLOW if score >= t.yellow_min else RED
    when = f" (survey of {as_of.isoformat()})" if as_of is not None else ""
    return score, color, f"{score} out of 10{when}"


def _measure_values(
    account: Account,
    rules: Rules,
    today: date,
    base_priority: int,
    signals: LabelSignals,
) -> tuple[dict[str, tuple[object, str | None, str]], str | None, bool, bool]:
    """Value, color (None = no data) and note of each measure, plus sentiment facts."""
    h = rules.health
    th = h.thresholds
    sd = h.staleness_days
    t = today.toordinal()
    out: dict[str, tuple[object, str | None, str]] = {}

    # Sentiment: the label wins (newer than the registry, treated as fresh).
    sentiment: str | None = None
    from_label = False
    stale = False
    if signals.sentiment is not None:
        sentiment, from_label = signals.sentiment, True
        out["sentiment"] = (sentiment, sentiment, "from the sentiment label")
    elif account.sentiment.health is not None:
        updated = account.sentiment.updated
        age = None if updated is None else t - updated.toordinal()
        if age is not None and age >= sd.sentiment_no_data:
            out["sentiment"] = (
                account.sentiment.health,
                None,
                f"sentiment not updated for {age} days",
            )
        else:
            sentiment = account.sentiment.health
            # A sentiment without an update date cannot be shown fresh: flag it.
            stale = age is None or age >= sd.sentiment_stale
            note = (
                "sentiment has no update date"
                if age is None
                else (f"stale: not updated for {age} days" if stale else "")
            )
            out["sentiment"] = (sentiment, sentiment, note)
    else:
        out["sentiment"] = (None, None, "no CSM sentiment")

    since = account.customer_since
    assert since is not None
    if t - since.toordinal() < sd.new_customer_no_data:
        # SPEC 4: nothing but sentiment has data in the first 30 days as a customer.
        note = "first days as a customer"
        for _, names in GROUPS:
            for name in names:
                out.setdefault(name, (None, None, note))
        return out, sentiment, from_label, stale

    out["license_utilization"] = _license(account, h, today)

    usage = account.usage
    usage_stale = usage.as_of is not None and t - usage.as_of.toordinal() >= sd.usage
    for name in _USAGE_MEASURES:
        value = getattr(usage, _USAGE_FIELDS.get(name, name))
        if value is None:
            out[name] = (None, None, "no usage data")
        elif usage_stale:
            assert usage.as_of is not None
            out[name] = (value, None, f"usage data of {usage.as_of.isoformat()} is stale")
        else:
            out[name] = (value, _ratio_color(value, getattr(th, name)), "")

    objectives = account.success_plan.objectives
    if objectives is None:
        out["success_plan"] = (None, None, "no success plan objectives recorded")
    else:
        sp = th.success_plan
        color = (
            GREEN if objectives >= sp.green_min else YELLOW if objectives >= sp.yellow_min else RED
        )
        plural = "" if objectives == 1 else "s"
        out["success_plan"] = (objectives, color, f"{objectives} objective{plural}")

    out["support"] = _support(account, h, today)
    out["nps"] = _nps(account, h, today)

    eng = account.engagement
    if not account.has_engagement:
        out["meeting_cadence"] = (None, None, "no engagement data")
        out["persona_engagement"] = (None, None, "no engagement data")
    else:
        if eng.last_call is None:
            out["meeting_cadence"] = (None, RED, "no call recorded")
        else:
            days = max(t - eng.last_call.toordinal(), 0)
            cadence = th.meeting_cadence.for_priority(base_priority)
            out["meeting_cadence"] = (
                days,
                _cadence_color(days, cadence),
                f"{days} days since the last call (base priority {base_priority})",
            )
        personas = eng.personas_last_90_days
        if personas is None:
            out["persona_engagement"] = (None, None, "no persona data")
        else:
            found = sorted(set(personas))
            need = th.persona_engagement
            color = (
                GREEN
                if len(found) >= need.green_min
                else YELLOW
                if len(found) >= need.yellow_min
                else RED
            )
            seen = ", ".join(found) if found else "no key persona"
            out["persona_engagement"] = (found, color, f"{seen} in the last 90 days")
    return out, sentiment, from_label, stale


def assess_health(
    account: Account,
    rules: Rules,
    today: date,
    *,
    base_priority: int | None,
    signals: LabelSignals = NO_SIGNALS,
) -> HealthResult | None:
    """SPEC 4 for one account; None for pre-sales accounts (no health).

    `base_priority` (SPEC 4 "Base priority", priority without the at-risk rule)
    chooses the meeting-cadence thresholds, which breaks the priority/health circle.
    """
    if account.customer_since is None:
        return None
    h = rules.health
    values, sentiment, from_label, stale = _measure_values(
        account, rules, today, base_priority or 2, signals
    )
    cs = h.color_scores
    color_score = {GREEN: cs.green, YELLOW: cs.yellow, RED: cs.red}
    measures: list[Measure] = []
    groups: list[GroupScore] = []
    total = 0.0
    total_weight = 0.0
    for group, names in GROUPS:
        weights = getattr(h.weights, group)
        rows = [(name, values[name], float(getattr(weights, name))) for name in names]
        # SPEC 4: a measure with no data is left out, its weight shared among the others.
        live = sum(w for _, (_, color, _), w in rows if color is not None)
        acc = 0.0
        for name, (value, color, note), w in rows:
            applied = 100.0 * w / live if color is not None and live > 0 else 0.0
            measures.append(Measure(name, group, value, color, w, applied, note))
            if color is not None:
                acc += w * color_score[color]
        gw = float(getattr(h.group_weights, group))
        if live > 0:
            score = acc / live
            groups.append(GroupScore(group, gw, score))
            total += gw * score
            total_weight += gw
        else:
            groups.append(GroupScore(group, gw, None))

    if total_weight > 0:
        score: float | None = total / total_weight
        # Round away float noise (74.99999999) before comparing with the thresholds.
        rounded = round(score, 9)
        if rounded >= h.score.green_min:
            card = GREEN
        elif rounded >= h.score.yellow_min:
            card = YELLOW
        else:
            card = RED
    else:
        score = None
        card = UNKNOWN

    color, overrides = _overrides(account, h, card, sentiment)
    return HealthResult(
        color=color,
        score=score,
        scorecard_color=card,
        groups=tuple(groups),
        measures=tuple(measures),
        overrides=tuple(overrides),
        sentiment=sentiment,
        sentiment_from_label=from_label,
        sentiment_stale=stale,
    )


def _overrides(
    account: Account, h: HealthRules, color: str, sentiment: str | None
) -> tuple[str, list[str]]:
    """SPEC 4 overrides in order: red sentiment, contraction, then the yellow flags."""
    applied: list[str] = []
    # handbook 002 Red: "Communication of poor sentiment" — a red CSM sentiment (with
    # data, i.e. not past 120 days) makes the account red whatever the score.
    if sentiment == RED:
        applied.append("red CSM sentiment -> red")
        color = RED
    # handbook 002 Red: "Potential risk of contraction or churn (even if this is unconfirmed)".
    if account.risk.contraction:
        applied.append("potential contraction or churn (risk.contraction) -> red")
        color = RED
    if color == GREEN:
        # handbook 002 Yellow examples; they only pull a green account down to yellow.
        flags = h.yellow_flags
        majors = flags.version_majors_behind
        if account.deployment == "self-managed" and account.version.more_than_majors_behind(majors):
            release = "a major release" if majors == 1 else f"{majors} major releases"
            applied.append(
                f"self-managed version {account.version.current} is more than {release} "
                f"behind {account.version.latest} -> yellow"
            )
        if account.engagement.contacts == flags.single_contact:
            applied.append("single contact at the customer (single-threaded) -> yellow")
        if account.champion_left:
            applied.append("champion left -> yellow")
        if applied:
            color = YELLOW
    return color, applied


def needs_triage(account: Account, health: HealthResult | None, signals: LabelSignals) -> bool:
    """SPEC 4: red, or the CSM asked for it (registry flag or `triage::needed` label).

    Pre-sales accounts (no health) never need triage.
    """
    if health is None:
        return False
    return health.color == RED or account.sentiment.needs_triage or signals.triage_needed


def worse_color(a: str | None, b: str | None) -> str | None:
    """The worse of two colors (SPEC 5.1: health vs CSM sentiment); unknown/None ignored."""
    ranked = [c for c in (a, b) if c in _RANK]
    if not ranked:
        return None
    return max(ranked, key=_RANK.__getitem__)
