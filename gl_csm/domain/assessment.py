"""One account's full assessment: priority, health, triage, lifecycle (SPEC 3 and 4).

The circle between priority (at risk -> P1) and health (meeting cadence thresholds
by priority) is broken as SPEC 4 says: health uses the **base priority**, computed
without the at-risk rule; the final priority then uses the at-risk verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from gl_csm.domain.account import Account
from gl_csm.domain.health import NO_SIGNALS, HealthResult, LabelSignals, assess_health
from gl_csm.domain.health import needs_triage as _needs_triage
from gl_csm.domain.priority import PriorityResult, assess_priority, in_onboarding
from gl_csm.domain.rules import Rules

LIFECYCLES: tuple[str, ...] = ("pre-sales", "onboarding", "adopting", "will-churn", "churned")


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything the card and `gl-csm assess` show for one account."""

    account: Account
    priority: PriorityResult
    base_priority: PriorityResult
    health: HealthResult | None  # None for pre-sales
    needs_triage: bool
    at_risk: bool
    in_onboarding: bool
    lifecycle: str
    signals: LabelSignals = NO_SIGNALS

    @property
    def slug(self) -> str:
        return self.account.slug

    @property
    def health_color(self) -> str | None:
        return None if self.health is None else self.health.color

    @property
    def score(self) -> float | None:
        return None if self.health is None else self.health.score

    def to_json(self) -> dict[str, Any]:
        """SPEC 7 `gl-csm assess --format json`: exactly these keys, JSON values only."""
        h = self.health
        return {
            "slug": self.account.slug,
            "priority": self.priority.priority,
            "base_priority": self.base_priority.priority,
            "priority_reasons": list(self.priority.reasons),
            "health": None if h is None else h.color,
            "score": None if h is None or h.score is None else round(h.score, 1),
            "groups": {}
            if h is None
            else {g.name: None if g.score is None else round(g.score, 1) for g in h.groups},
            "measures": []
            if h is None
            else [
                {
                    "measure": m.name,
                    "value": m.value,
                    "color": m.color,
                    "weight": round(m.applied_weight, 1),
                }
                for m in h.measures
            ],
            "overrides": [] if h is None else list(h.overrides),
            "needs_triage": self.needs_triage,
            "lifecycle": self.lifecycle,
        }


def assess(
    account: Account, rules: Rules, today: date, signals: LabelSignals = NO_SIGNALS
) -> Assessment:
    """Assess one account on `today` (SPEC 3 and 4), with the tracking issue's labels."""
    base = assess_priority(account, rules, today, at_risk=False)
    health = assess_health(account, rules, today, base_priority=base.priority, signals=signals)
    triage = _needs_triage(account, health, signals)
    # SPEC 3: at risk = potential contraction, or needs triage (pre-sales never is).
    contraction = account.risk.contraction and not account.pre_sales
    at_risk = contraction or triage
    if at_risk:
        because = " and ".join(
            part
            for part, on in (("potential contraction", contraction), ("needs triage", triage))
            if on
        )
        final = assess_priority(account, rules, today, at_risk=True, at_risk_because=because)
    else:
        final = base
    onboarding = in_onboarding(account, rules, today)
    if account.lifecycle is not None:
        # SPEC 4: will-churn / churned are set by hand and win.
        lifecycle = account.lifecycle
    elif account.pre_sales:
        lifecycle = "pre-sales"
    elif onboarding:
        lifecycle = "onboarding"
    else:
        lifecycle = "adopting"
    return Assessment(
        account=account,
        priority=final,
        base_priority=base,
        health=health,
        needs_triage=triage,
        at_risk=at_risk,
        in_onboarding=onboarding,
        lifecycle=lifecycle,
        signals=signals,
    )
