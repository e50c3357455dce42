"""`gl-csm setup`: the taxonomy of SPEC 6 as group labels, once; refuse public projects."""

from __future__ import annotations

import pytest

from gl_csm.config import Settings
from gl_csm.domain.taxonomy import CANONICAL, Taxonomy
from gl_csm.errors import ConfigError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.sandbox import Sandbox
from gl_csm.services.setup import plan_setup


def test_creates_taxonomy_once(gateway: Gateway, settings: Settings) -> None:
    plan = plan_setup(gateway, settings)
    internal = [c for c in plan.changes if c.target == "group customer-success"]
    assert len(internal) == len(CANONICAL)
    assert plan.apply(gateway).exit_code == 0
    names = [label["name"] for label in gateway.group_labels("customer-success")]
    assert {d.name for d in CANONICAL} <= set(names)
    assert len(names) == len(set(names))

    before = gateway.stats
    again = plan_setup(gateway, settings)
    assert again.changes == []
    assert gateway.stats.writes == before.writes


def test_internal_taxonomy_never_on_customer_groups(gateway: Gateway, settings: Settings) -> None:
    """SPEC 1: internal vocabulary (health::red) stays off customer-visible groups."""
    plan_setup(gateway, settings).apply(gateway)
    for group in ("account-management/pre-sales", "account-management/customers"):
        names = {label["name"] for label in gateway.group_labels(group)}
        assert not any(n.startswith(("health::", "priority::", "risk-")) for n in names)


def test_renamed_labels_are_used(gateway: Gateway, settings: Settings) -> None:
    from dataclasses import replace

    renamed = replace(settings, taxonomy=Taxonomy({"health::red": "HS::Red"}))
    plan_setup(gateway, renamed).apply(gateway)
    names = {label["name"] for label in gateway.group_labels("customer-success")}
    assert "HS::Red" in names and "health::red" not in names


def test_public_internal_project_refused_before_any_write(
    gateway: Gateway, settings: Settings, sandbox: Sandbox
) -> None:
    """SPEC 1: refuse (clear error, nothing written) when an internal project is public."""
    gateway.update_project("customer-success/account-triage", visibility="public")
    writes = gateway.stats.writes
    with pytest.raises(ConfigError, match="projects.triage.*public"):
        plan_setup(gateway, settings)
    assert gateway.stats.writes == writes


def test_missing_internal_project_is_a_config_error(gateway: Gateway, settings: Settings) -> None:
    from dataclasses import replace

    from gl_csm.config import Projects

    bad = replace(settings, projects=Projects("nope/accounts", "nope/t", "nope/e"))
    with pytest.raises(ConfigError, match="projects.accounts.*does not exist"):
        plan_setup(gateway, bad)
