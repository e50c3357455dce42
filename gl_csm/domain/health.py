"""Health (SPEC section 4): weighted scorecard, staleness, overrides.

Modelled on GitLab's customer health scoring (handbook 002 links it): five groups of
measures, each measure a color, colors scored, weighted means up to an account score.
The measures themselves (how each is computed, weighted and read) are defined once each
in domain/measures/; this module scores them and applies the overrides.
"""

from __future__ import annotations

from datetime import date

from gl_csm.domain.account import Account
from gl_csm.domain.measures import registry, sentiment
from gl_csm.domain.measures.base import (
    GREEN,
    NO_SIGNALS,
    RED,
    UNKNOWN,
    YELLOW,
    GroupScore,
    HealthResult,
    Inputs,
    LabelSignals,
    Measure,
    Reading,
)
from gl_csm.domain.measures.base import RANK as _RANK
from gl_csm.domain.measures.license import months_a_customer, utilization_pct
from gl_csm.domain.rules import HealthRules, Rules

__all__ = [
    "GREEN",
    "NO_SIGNALS",
    "RED",
    "UNKNOWN",
    "YELLOW",
    "GroupScore",
    "HealthResult",
    "LabelSignals",
    "Measure",
    "assess_health",
    "months_a_customer",
    "needs_triage",
    "utilization_pct",
    "worse_color",
]


def _readings(i: Inputs) -> dict[str, Reading]:
    """Each measure's reading (SPEC 4: nothing but sentiment has data in the first
    days as a customer)."""
    since = i.account.customer_since
    assert since is not None
    first_days = i.days_since(since) < i.rules.staleness_days.new_customer_no_data
    return {
        d.key: Reading(None, None, "first days as a customer")
        if first_days and not d.from_first_day
        else d.compute(i)
        for d in registry.definitions()
    }


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
    inputs = Inputs(account, h, today, base_priority or 2, signals)
    values = _readings(inputs)
    said = sentiment.facts(inputs)
    cs = h.color_scores
    color_score = {GREEN: cs.green, YELLOW: cs.yellow, RED: cs.red}
    measures: list[Measure] = []
    groups: list[GroupScore] = []
    total = 0.0
    total_weight = 0.0
    for group, defs in registry.groups():
        rows = [(d.key, values[d.key], float(d.weight(h))) for d in defs]
        # SPEC 4: a measure with no data is left out, its weight shared among the others.
        live = sum(w for _, r, w in rows if r.color is not None)
        acc = 0.0
        for name, r, w in rows:
            applied = 100.0 * w / live if r.color is not None and live > 0 else 0.0
            measures.append(Measure(name, group, r.value, r.color, w, applied, r.note))
            if r.color is not None:
                acc += w * color_score[r.color]
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

    color, overrides = _overrides(account, h, card, said.sentiment)
    return HealthResult(
        color=color,
        score=score,
        scorecard_color=card,
        groups=tuple(groups),
        measures=tuple(measures),
        overrides=tuple(overrides),
        sentiment=said.sentiment,
        sentiment_from_label=said.from_label,
        sentiment_stale=said.stale,
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
