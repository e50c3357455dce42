"""SPEC 2 registry schema: every bad input is reported with file, key and expectation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from gl_csm.domain.account import Account, RegistryError, parse_account
from gl_csm.errors import GlCsmError

SRC = "accounts/acme.yml"
BASE: dict[str, Any] = {"name": "Acme Corp", "segment": "strategic"}


def parse(**keys: Any) -> Account:
    return parse_account({**BASE, **keys}, SRC, "acme")


def test_full_example_of_spec2_parses() -> None:
    data = {
        "name": "Acme Corp",
        "slug": "acme-corp",
        "segment": "strategic",
        "region": "NORAM",
        "public_sector": False,
        "digital": False,
        "parent": None,
        "managed": True,
        "arr": 250000,
        "plan": "ultimate",
        "deployment": "self-managed",
        "seats": {"licensed": 1000, "active": 750},
        "usage": {
            "as_of": date(2026, 11, 1),
            "monthly_active": 0.62,
            "scm": 0.55,
            "ci": 0.31,
            "devsecops": 0.08,
            "cd": 0.12,
        },
        "version": {"current": "16.3", "latest": "17.5"},
        "customer_since": date(2026, 9, 1),
        "onboarding_completed": None,
        "renewal_date": date(2027, 8, 31),
        "opportunities": [{"type": "uptier", "close_date": date(2027, 1, 15)}],
        "growth_intent": False,
        "success_plan": {
            "objectives": 3,
            "critical_initiative": False,
            "active_use_case_planning": False,
        },
        "stages_adopted": ["create", "verify"],
        "engagement": {
            "last_call": date(2026, 11, 10),
            "contacts": 2,
            "personas_last_90_days": ["development-lead"],
        },
        "champion_left": False,
        "support": {
            "as_of": date(2026, 11, 20),
            "tickets_last_30_days": 4,
            "advised_no_ticket": False,
            "emergency_open": False,
            "emergency_closed_last_7_days": False,
        },
        "nps": 9,
        "key_logo": False,
        "channel_engaged": False,
        "sentiment": {"health": "yellow", "needs_triage": True, "updated": date(2026, 11, 1)},
        "risk": {
            "contraction": False,
            "types": ["cost-budget"],
            "reasons": ["loss-of-budget"],
            "impacts": ["seat-churn"],
            "escalation_requested": False,
        },
        "exception": {"priority": 1, "reason": "key logo"},
        "lifecycle": None,
        "team": {"csm": "alice", "sa": "bob", "ae": "carol", "pse": "dave"},
        "project": None,
    }
    a = parse_account(data, SRC, "acme")
    assert a.slug == "acme-corp" and a.source == SRC
    assert a.seats.active == 750 and a.usage.ci == 0.31
    assert a.version.majors_behind() == 1
    assert a.opportunities[0].close_date == date(2027, 1, 15)
    assert a.engagement.personas_last_90_days == ("development-lead",)
    assert a.risk.types == ("cost-budget",)
    assert a.exception is not None and a.exception.reason == "key logo"
    assert a.team.csm == "alice"
    assert a.has_engagement and not a.pre_sales


def test_minimal_account_defaults() -> None:
    a = parse()
    assert a.slug == "acme" and a.pre_sales and a.managed and not a.digital
    assert a.stages_adopted is None and a.opportunities == () and a.exception is None
    assert a.seats.licensed is None and not a.has_engagement


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(date(2026, 9, 1), date(2026, 9, 1), id="spec2-date-yaml-date"),
        pytest.param("2026-09-01", date(2026, 9, 1), id="spec2-date-iso-string"),
        pytest.param(datetime(2026, 9, 1, 10, 30), date(2026, 9, 1), id="spec2-date-datetime"),
    ],
)
def test_dates(value: object, expected: date) -> None:
    assert parse(customer_since=value).customer_since == expected


@pytest.mark.parametrize(
    ("keys", "key", "expected", "got"),
    [
        pytest.param(
            {"seats": {"active": -3}},
            "seats.active",
            "a non-negative integer",
            "-3",
            id="spec2-negative-count",
        ),
        pytest.param(
            {"seats": {"licensed": 1.5}},
            "seats.licensed",
            "a non-negative integer",
            "1.5",
            id="spec2-float-count",
        ),
        pytest.param(
            {"seats": {"licensed": True}},
            "seats.licensed",
            "a non-negative integer",
            "true",
            id="spec2-bool-is-not-a-count",
        ),
        pytest.param(
            {"segment": "enterprise"},
            "segment",
            "one of strategic, growth, scale, commercial",
            "'enterprise'",
            id="spec2-unknown-segment",
        ),
        pytest.param(
            {"customer_since": "2026-13-01"},
            "customer_since",
            "a date (YYYY-MM-DD)",
            "'2026-13-01'",
            id="spec2-date-does-not-parse",
        ),
        pytest.param(
            {"renewal_date": "next year"},
            "renewal_date",
            "a date (YYYY-MM-DD)",
            "'next year'",
            id="spec2-date-free-text",
        ),
        pytest.param(
            {"usage": {"scm": 1.2}},
            "usage.scm",
            "a number between 0 and 1",
            "1.2",
            id="spec2-ratio-above-1",
        ),
        pytest.param(
            {"usage": {"ci": -0.1}},
            "usage.ci",
            "a number between 0 and 1",
            "-0.1",
            id="spec2-ratio-negative",
        ),
        pytest.param({"nps": 11}, "nps", "an integer from 0 to 10", "11", id="spec2-nps-11"),
        pytest.param({"nps": "9"}, "nps", "an integer from 0 to 10", "'9'", id="spec2-nps-string"),
        pytest.param(
            {"exception": {"priority": 1}},
            "exception.reason",
            "the reason for the priority exception",
            "null",
            id="spec2-exception-needs-reason",
        ),
        pytest.param(
            {"exception": {"priority": 1, "reason": "  "}},
            "exception.reason",
            "the reason for the priority exception",
            "'  '",
            id="spec2-exception-blank-reason",
        ),
        pytest.param(
            {"exception": {"priority": 5, "reason": "x"}},
            "exception.priority",
            "a priority 1, 2, 3 or 4",
            "5",
            id="spec2-exception-priority-range",
        ),
        pytest.param(
            {"lifecycle": "adopting"},
            "lifecycle",
            "one of will-churn, churned",
            "'adopting'",
            id="spec2-lifecycle-only-hand-set-values",
        ),
        pytest.param(
            {"colour": "red"},
            "colour",
            "a known account key",
            "an unknown key",
            id="spec2-unknown-top-key",
        ),
        pytest.param(
            {"seats": {"licenced": 3}},
            "seats.licenced",
            "one of active, licensed",
            "an unknown key",
            id="spec2-unknown-nested-key",
        ),
        pytest.param(
            {"opportunities": [{"type": "uptier", "close": "2027-01-01"}]},
            "opportunities[0].close",
            "one of close_date, type",
            "an unknown key",
            id="spec2-unknown-key-in-list-item",
        ),
        pytest.param(
            {"opportunities": [{"type": "renewal"}]},
            "opportunities[0].type",
            "one of uptier, growth",
            "'renewal'",
            id="spec2-opportunity-type",
        ),
        pytest.param(
            {"opportunities": [{"close_date": "2027-01-01"}]},
            "opportunities[0].type",
            "one of uptier, growth",
            "null",
            id="spec2-opportunity-type-required",
        ),
        pytest.param(
            {"opportunities": {"type": "uptier"}},
            "opportunities",
            "a list of {type, close_date}",
            "a mapping",
            id="spec2-opportunities-list",
        ),
        pytest.param(
            {"slug": "Acme Corp"},
            "slug",
            "a slug of lowercase letters, digits and dashes",
            "'Acme Corp'",
            id="spec2-slug-pattern",
        ),
        pytest.param(
            {"plan": "gold"}, "plan", "one of free, premium, ultimate", "'gold'", id="spec2-plan"
        ),
        pytest.param(
            {"deployment": "cloud"},
            "deployment",
            "one of self-managed, saas, dedicated",
            "'cloud'",
            id="spec2-deployment",
        ),
        pytest.param({"digital": "yes"}, "digital", "true or false", "'yes'", id="spec2-flag-type"),
        pytest.param({"arr": -5}, "arr", "a non-negative number", "-5", id="spec2-negative-arr"),
        pytest.param(
            {"sentiment": {"health": "amber"}},
            "sentiment.health",
            "one of green, yellow, red",
            "'amber'",
            id="spec2-sentiment-color",
        ),
        pytest.param(
            {"risk": {"types": ["budget"]}},
            "risk.types[0]",
            "one of cost-budget",
            "'budget'",
            id="spec2-risk-type-taxonomy",
        ),
        pytest.param(
            {"risk": {"reasons": "other"}},
            "risk.reasons",
            "a list of",
            "'other'",
            id="spec2-risk-reasons-list",
        ),
        pytest.param(
            {"risk": {"impacts": ["churn"]}},
            "risk.impacts[0]",
            "one of customer-churn",
            "'churn'",
            id="spec2-risk-impact-taxonomy",
        ),
        pytest.param(
            {"engagement": {"personas_last_90_days": ["cto"]}},
            "engagement.personas_last_90_days[0]",
            "one of development-lead, security-lead",
            "'cto'",
            id="spec2-persona",
        ),
        pytest.param(
            {"engagement": {"contacts": -1}},
            "engagement.contacts",
            "a non-negative integer",
            "-1",
            id="spec2-contacts-negative",
        ),
        pytest.param(
            {"support": {"tickets_last_30_days": -2}},
            "support.tickets_last_30_days",
            "a non-negative integer",
            "-2",
            id="spec2-tickets-negative",
        ),
        pytest.param(
            {"team": {"csm": "alice smith"}},
            "team.csm",
            "a GitLab username",
            "'alice smith'",
            id="spec2-username",
        ),
        pytest.param(
            {"team": {"manager": "x"}},
            "team.manager",
            "one of ae, csm, pse, sa",
            "an unknown key",
            id="spec2-team-unknown-role",
        ),
        pytest.param(
            {"version": {"current": "latest"}},
            "version.current",
            "a version like",
            "'latest'",
            id="spec2-version",
        ),
        pytest.param(
            {"stages_adopted": "create"},
            "stages_adopted",
            "a list of stage names",
            "'create'",
            id="spec2-stages-list",
        ),
        pytest.param({"seats": [1000]}, "seats", "a mapping", "a list", id="spec2-section-type"),
        pytest.param({"name": ""}, "name", "a non-empty string", "''", id="spec2-name-empty"),
    ],
)
def test_bad_input_names_file_key_and_expectation(
    keys: dict[str, Any], key: str, expected: str, got: str
) -> None:
    with pytest.raises(RegistryError) as info:
        parse(**keys)
    err = info.value
    assert (err.file, err.key) == (SRC, key)
    assert err.expected.startswith(expected), err.expected
    assert err.got == got
    assert str(err).startswith(f"{SRC}: key '{key}': expected {expected}")


def test_message_format() -> None:
    with pytest.raises(RegistryError) as info:
        parse(seats={"active": -3})
    assert str(info.value) == (
        "accounts/acme.yml: key 'seats.active': expected a non-negative integer, got -3"
    )
    assert isinstance(info.value, GlCsmError)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        pytest.param({"segment": "growth"}, "name", id="spec2-name-required"),
        pytest.param({"name": "X"}, "segment", id="spec2-segment-required"),
        pytest.param([1, 2], None, id="spec2-file-not-a-mapping"),
        pytest.param(None, None, id="spec2-empty-file"),
    ],
)
def test_required_keys_and_shape(data: object, key: str | None) -> None:
    with pytest.raises(RegistryError) as info:
        parse_account(data, SRC, "acme")
    assert info.value.key == key


def test_file_stem_must_be_a_slug_unless_slug_is_set() -> None:
    with pytest.raises(RegistryError) as info:
        parse_account(dict(BASE), "accounts/Acme Corp.yml", "Acme Corp")
    assert info.value.key == "slug"
    assert parse_account({**BASE, "slug": "acme"}, "accounts/Acme Corp.yml", "Acme Corp").slug == (
        "acme"
    )


def test_unquoted_version_number_is_accepted() -> None:
    a = parse(version={"current": 16.3, "latest": "17.5"}, deployment="self-managed")
    assert a.version.current == "16.3" and a.version.majors_behind() == 1


def test_null_values_mean_not_set() -> None:
    a = parse(nps=None, seats=None, exception=None, digital=None, team=None)
    assert a.nps is None and a.exception is None and not a.digital and a.team.csm is None
