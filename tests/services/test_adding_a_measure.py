"""A new scorecard measure is one module (gl_csm/domain/measures/) and its test.

The measure below is defined here as a module of the package would define it (a
``DEFINITIONS`` tuple) and added through :func:`registry.load_module`, as naming it in
``registry.MEASURES`` would add it. Nothing else is edited: it is scored, `gl-csm assess
--format json` prints it, the card and the triage texts name it in words with its unit,
its red points to a risk type's playbook, and the dashboard reads it.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from gl_csm.cli import main
from gl_csm.config import Settings
from gl_csm.dashboard.measures import readable
from gl_csm.domain.assessment import assess
from gl_csm.domain.measures import registry
from gl_csm.domain.measures.base import Inputs, MeasureDef, Reading, as_number, plural, ratio_color
from gl_csm.registry import load_registry
from gl_csm.services.assess import render_text, run_assess
from gl_csm.services.tracking import CardExtra, render_card
from gl_csm.services.triage.context import drivers
from gl_csm.services.triage.playbooks import suggested_types

TODAY = date(2026, 11, 23)


def _contacts(i: Inputs) -> Reading:
    n = i.account.engagement.contacts
    if n is None:
        return Reading(None, None, "no contact count")
    return Reading(n, ratio_color(n, 3, 2), _words(n))


def _words(n: float) -> str:
    return plural(n, "contact", "contacts") + " at the customer"


def _unit(value: object) -> str:
    n = as_number(value)
    return str(value) if n is None else _words(n)


#: What gl_csm/domain/measures/contacts.py would hold.
CONTACTS_MODULE = types.ModuleType("gl_csm.domain.measures.contacts")
CONTACTS_MODULE.DEFINITIONS = (  # type: ignore[attr-defined]
    MeasureDef(
        key="contacts",
        name="People we talk to",
        group="engagement",
        rank=30,
        compute=_contacts,
        weight=lambda h: 20.0,
        unit=_unit,
        risk_type="engagement-champion",
    ),
)


@pytest.fixture
def contacts() -> Iterator[None]:
    registry.load_module(CONTACTS_MODULE)
    try:
        yield
    finally:
        registry.unregister("contacts")


def _account(settings: Settings, slug: str):  # type: ignore[no-untyped-def]
    return load_registry(settings.accounts_dir, [slug]).accounts[0]


def test_a_new_measure_is_scored(settings: Settings, contacts: None) -> None:
    """initech has one contact: red, weight 20 of 120 in Engagement."""
    a = assess(_account(settings, "initech"), settings.rules, TODAY)
    assert a.health is not None
    names = [m.name for m in a.health.measures]
    assert names[-3:] == ["meeting_cadence", "persona_engagement", "contacts"]
    m = next(m for m in a.health.measures if m.name == "contacts")
    assert (m.value, m.color, m.applied_weight) == (1, "red", pytest.approx(100 * 20 / 120))
    engagement = next(g for g in a.health.groups if g.name == "engagement")
    # Meeting cadence yellow (60), personas red (0), contacts red (0).
    assert engagement.score == pytest.approx((50 * 60 + 50 * 0 + 20 * 0) / 120)


def test_without_the_module_the_scorecard_is_as_before(settings: Settings) -> None:
    a = assess(_account(settings, "initech"), settings.rules, TODAY)
    assert a.health is not None and "contacts" not in [m.name for m in a.health.measures]
    assert next(g for g in a.health.groups if g.name == "engagement").score == 30


def test_assess_json_prints_it(workdir: Path, contacts: None) -> None:
    result = CliRunner().invoke(
        main,
        ["--config", str(workdir / "gl-csm.yml"), "--today", TODAY.isoformat()]
        + ["assess", "initech", "--format", "json"],
        env={"GITLAB_URL": "", "CI_SERVER_URL": "", "GITLAB_TOKEN": ""},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert {"measure": "contacts", "value": 1, "color": "red", "weight": 16.7} in row["measures"]


def test_people_read_it_in_words(settings: Settings, contacts: None) -> None:
    a = assess(_account(settings, "initech"), settings.rules, TODAY)
    card = render_card(a, settings, project=None, extra=CardExtra())
    assert "| Engagement | People we talk to | red | 1 contact at the customer | 16.7% |" in card
    assert "| contacts |" not in card
    assert "People we talk to is red: 1 contact at the customer" in drivers(a)
    run = run_assess(settings.accounts_dir, settings.rules, TODAY, ["initech"])
    assert "People we talk to red (1 contact at the customer)" in render_text(run)
    assert suggested_types(["contacts"]) == {"engagement-champion": ["contacts"]}


def test_the_dashboard_reads_it(contacts: None) -> None:
    """The dashboard reads the triage results, where a value is text."""
    rows = readable([{"name": "contacts", "color": "yellow", "value": "2"}])
    assert rows == [
        {"name": "People we talk to", "color": "yellow", "value": "2 contacts at the customer"}
    ]


def test_a_key_is_defined_once(contacts: None) -> None:
    with pytest.raises(ValueError, match="'contacts' is defined twice"):
        registry.load_module(CONTACTS_MODULE)


def test_a_measure_names_a_known_group() -> None:
    with pytest.raises(ValueError, match="group must be one of product, risk"):
        MeasureDef("x", "X", "finance", 1, _contacts, lambda h: 1.0)
