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


def test_boards_created_once_with_their_lists(gateway: Gateway, settings: Settings) -> None:
    """SPEC 5 Portfolio view: doc/api/boards.md. The health board in the accounts project,
    the triage board in the triage project; a second setup writes nothing."""
    plan = plan_setup(gateway, settings)
    kinds = [c.action for c in plan.changes]
    assert kinds.count("create-board") == 2 and kinds.count("create-board-list") == 8
    assert plan.apply(gateway).exit_code == 0

    def lists(project: str) -> dict[str, list[str]]:
        return {
            b["name"]: [x["label"]["name"] for x in b["lists"]]
            for b in gateway.project_boards(project)
        }

    assert lists("customer-success/accounts") == {
        "Portfolio health": ["health::red", "health::yellow", "health::green", "health::unknown"]
    }
    assert lists("customer-success/account-triage") == {
        "Triage status": [
            "triage::needed",
            "triage::open",
            "triage::exit-proposed",
            "triage::resolved",
        ]
    }
    before = gateway.stats.writes
    assert plan_setup(gateway, settings).changes == []
    assert gateway.stats.writes == before


def test_missing_board_list_is_restored(gateway: Gateway, settings: Settings) -> None:
    """A board someone made by hand with one list gets only the missing lists."""
    plan = plan_setup(gateway, settings)
    plan.changes[:] = [c for c in plan.changes if c.action == "create-label"]
    plan.apply(gateway)
    board = gateway.create_project_board("customer-success/accounts", "Portfolio health")
    red = next(
        lb["id"]
        for lb in gateway.project_labels("customer-success/accounts")
        if lb["name"] == "health::red"
    )
    gateway.create_board_list("customer-success/accounts", board["id"], red)
    again = plan_setup(gateway, settings)
    accounts = [c for c in again.changes if c.target == "project customer-success/accounts"]
    assert [c.detail for c in accounts] == [
        "list health::yellow on board 'Portfolio health'",
        "list health::green on board 'Portfolio health'",
        "list health::unknown on board 'Portfolio health'",
    ]


def _label(gateway: Gateway, group: str, name: str) -> dict:
    return next(lb for lb in gateway.group_labels(group) if lb["name"] == name)


def test_drifted_labels_restored_and_reported(gateway: Gateway, settings: Settings) -> None:
    """A label setup owns that a person recolored or re-described is restored with one PUT
    (doc/api/group_labels.md "Update a group label"); the plan says what drifted, a dry
    run shows it without writing, and a second run writes nothing (gitlabform's
    diff-then-apply)."""
    from gl_csm.domain.taxonomy import CANONICAL
    from gl_csm.plan import dry_run_outcome

    plan_setup(gateway, settings).apply(gateway)
    red = _label(gateway, "customer-success", "health::red")
    meeting = _label(gateway, "account-management/customers", "meeting")
    gateway.put(
        f"/groups/customer-success/labels/{red['id']}",
        "person recolors",
        {"color": "#123456", "description": "my words"},
    )
    gateway.put(
        f"/groups/account-management%2Fcustomers/labels/{meeting['id']}", "x", {"color": "#000000"}
    )

    writes = gateway.stats.writes
    plan = plan_setup(gateway, settings)
    text = dry_run_outcome(plan).render("text", dry_run=True)
    assert gateway.stats.writes == writes  # planning (the dry run) writes nothing
    want = next(d for d in CANONICAL if d.name == "health::red")
    assert [(c.action, c.target) for c in plan.changes] == [
        ("update-label", "group customer-success"),
        ("update-label", "group account-management/customers"),
    ]
    assert f"health::red: color #123456 -> {want.color}" in text
    assert f"description 'my words' -> {want.description!r}" in text
    assert "meeting: color #000000 -> #1f75cb (restored) [customer-visible]" in text

    assert plan.apply(gateway).exit_code == 0
    assert gateway.stats.writes == writes + 2
    restored = _label(gateway, "customer-success", "health::red")
    assert (restored["color"].lower(), restored["description"]) == (
        want.color.lower(),
        want.description,
    )
    writes = gateway.stats.writes
    assert plan_setup(gateway, settings).changes == []
    assert gateway.stats.writes == writes


def test_inherited_label_is_not_setups(gateway: Gateway, settings: Settings) -> None:
    """A same-named label of an ancestor group is seen (GitLab answers 409 on create,
    doc/api/group_labels.md) but not owned: left as the person made it, no write."""
    gateway.create_label("group", "account-management", "meeting", "#000000", "ours")
    plan_setup(gateway, settings).apply(gateway)
    writes, reads = gateway.stats.writes, gateway.stats.reads
    plan = plan_setup(gateway, settings)
    assert plan.changes == []
    assert _label(gateway, "account-management/customers", "meeting")["color"] == "#000000"
    assert gateway.stats.writes == writes
    assert gateway.stats.reads > reads
