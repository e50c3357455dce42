"""The accounts the stories start from: registry data as a CS-ops repository holds it."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.stories.world import TEAM


def customer(name: str, **keys: Any) -> dict[str, Any]:
    """A healthy strategic NORAM customer of several years (green), ``keys`` on top
    (None removes a key)."""
    data: dict[str, Any] = {
        "name": name,
        "segment": "strategic",
        "region": "NORAM",
        "arr": 300000,
        "plan": "ultimate",
        "deployment": "saas",
        "seats": {"licensed": 500, "active": 420},
        "usage": {
            "as_of": date(2026, 11, 1),
            "monthly_active": 0.7,
            "scm": 0.8,
            "ci": 0.6,
            "devsecops": 0.3,
            "cd": 0.3,
        },
        "customer_since": date(2022, 5, 1),
        "onboarding_completed": date(2022, 6, 20),
        "renewal_date": date(2027, 10, 31),
        "success_plan": {"objectives": 4},
        "stages_adopted": ["plan", "create", "verify"],
        "engagement": {
            "last_call": date(2026, 10, 28),
            "contacts": 5,
            "personas_last_90_days": ["development-lead", "security-lead"],
        },
        "support": {"as_of": date(2026, 10, 30), "tickets_last_30_days": 2},
        "sentiment": {"health": "green", "needs_triage": False, "updated": date(2026, 10, 15)},
        "team": dict(TEAM),
    }
    data.update(keys)
    return {k: v for k, v in data.items() if v is not None}


def prospect(name: str, **keys: Any) -> dict[str, Any]:
    """An enterprise prospect in pre-sales: no customer_since, no health."""
    data: dict[str, Any] = {
        "name": name,
        "segment": "strategic",
        "region": "NORAM",
        "arr": 0,
        "plan": "ultimate",
        "deployment": "saas",
        "seats": {"licensed": 400},
        "opportunities": [{"type": "uptier", "close_date": date(2026, 11, 30)}],
        "team": dict(TEAM),
    }
    data.update(keys)
    return {k: v for k, v in data.items() if v is not None}
