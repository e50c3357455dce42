"""Small builders for domain tests: accounts go through the real parser."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from gl_csm.domain.account import Account, parse_account
from gl_csm.domain.assessment import Assessment, assess
from gl_csm.domain.cadence import add_months
from gl_csm.domain.health import NO_SIGNALS, HealthResult, LabelSignals, Measure
from gl_csm.domain.rules import DEFAULT_RULES, Rules

TODAY = date(2026, 11, 23)


def days_ago(n: int, today: date = TODAY) -> date:
    return today - timedelta(days=n)


def days_ahead(n: int, today: date = TODAY) -> date:
    return today + timedelta(days=n)


def months_ago(n: int, today: date = TODAY) -> date:
    return add_months(today, -n)


def account(**keys: Any) -> Account:
    """A paid account (customer for two years, onboarding done) with `keys` on top.

    A key set to None is removed (e.g. `customer_since=None` for pre-sales).
    """
    data: dict[str, Any] = {
        "name": "Test Co",
        "segment": "strategic",
        "customer_since": days_ago(730),
        "onboarding_completed": days_ago(660),
    }
    data.update(keys)
    data = {k: v for k, v in data.items() if v is not None}
    return parse_account(data, "accounts/test-co.yml", "test-co")


def assessed(
    rules: Rules = DEFAULT_RULES,
    today: date = TODAY,
    signals: LabelSignals = NO_SIGNALS,
    **keys: Any,
) -> Assessment:
    return assess(account(**keys), rules, today, signals)


def health_of(**keys: Any) -> HealthResult:
    result = assessed(**keys).health
    assert result is not None
    return result


def measure(result: HealthResult, name: str) -> Measure:
    return next(m for m in result.measures if m.name == name)
