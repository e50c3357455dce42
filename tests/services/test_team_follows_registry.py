"""What the customer reads follows the registry's team (SPEC 5: "The bot's parts of
customer-visible files ... follow the registry: a team change ... rewrites them in one
commit"). The daily triage notices a team change (collaboration/team_sync.py): the
card records the team the project names; when the registry differs, triage rewrites
the team parts; any other day it reads nothing more than before."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from gl_csm.services.card_data import card_data
from gl_csm.services.collaboration.onboard import plan_onboard
from gl_csm.services.collaboration.team_sync import TEAM_KEY
from gl_csm.services.setup import plan_setup
from tests.services.triage_world import ACCOUNTS, World

D = date.fromisoformat
POST = "account-management/customers"
PERSON = "\nOur own note: the platform team meets on Tuesdays.\n"


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = World(tmp_path)
    # A new customer (paid 2026-11-10): its project has the Welcome call issue too.
    w.add("initech", "Initech", customer_since=D("2026-11-10"), onboarding_completed=None)
    assert plan_setup(w.gateway, w.settings).apply(w.gateway).exit_code == 0
    assert plan_onboard(w.gateway, w.settings, "initech", w.today).apply(w.gateway).exit_code == 0
    return w


def _set_team(world: World, **team: str) -> None:
    path = world.root / "accounts" / "initech.yml"
    data = yaml.safe_load(path.read_text())
    data["team"].update(team)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_triage_rewrites_the_team_parts_after_a_registry_change_and_reads_nothing_more_otherwise(
    world: World,
) -> None:
    readme = world.person_appends_to_readme(f"{POST}/initech", PERSON)
    person = world.person()
    pid = person.project(f"{POST}/initech")["id"]  # type: ignore[index]
    outcome, _, _ = world.run()
    assert outcome.exit_code == 0, outcome.failures
    tracking = next(
        i for i in world.issues(ACCOUNTS) if "gl-csm:tracking:initech" in i["description"]
    )
    assert card_data(tracking["description"])[TEAM_KEY] == "csm=alice,sa=bob,ae=carol,pse=dave"
    _, _, quiet = world.run()
    assert quiet.writes == 0

    # A person changes the SA in the registry (a merge request): the next triage adds
    # the new SA as a member with the SA's level of the phase (SPEC 5 Onboard "members
    # by role"; nobody removed) and rewrites the team parts: files in one commit, the
    # open Welcome call issue.
    _set_team(world, sa="erin")
    commits = len(person.commits(pid))
    outcome, run, changed = world.run()
    assert outcome.exit_code == 0, outcome.failures
    actions = [(c.action, c.target) for c in run.plan.changes if c.target.startswith(POST)]
    assert actions == [
        ("add-member", f"{POST}/initech"),
        ("commit", f"{POST}/initech"),
        ("update-issue", f"{POST}/initech#1"),
    ]
    levels = {m["username"]: m["access_level"] for m in person.members(pid)}
    assert levels["erin"] == levels["bob"] == 40, levels  # the SA's level; bob stays
    assert len(person.commits(pid)) == commits + 1
    readme = person.file_text(pid, "README.md", "main") or ""
    assert "| Solutions Architect | [erin](" in readme and "[bob](" not in readme
    assert readme.endswith(PERSON)  # what people wrote stays
    welcome = next(i for i in person.issues(pid) if i["title"] == "Welcome to GitLab call")
    assert "GitLab: Solutions Architect, [erin](" in welcome["description"]
    assert changed.reads > quiet.reads

    # The rerun, and any later day the team did not change: the reads of before, no write.
    _, _, again = world.run()
    assert again.writes == 0 and again.reads == quiet.reads
