"""What the customer reads about where the engagement stands follows the account (SPEC 5:
"The bot's parts of customer-visible files (team table, phase passages) follow the
registry"). The daily triage notices that the README's "Where we are" no longer says
where the account stands (collaboration/team_sync.py: the card records what the passage
says): when the onboarding window ends, it rewrites the passage, only it, in one
commit; any other day it reads nothing more than before."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from gl_csm.services.card_data import card_data
from gl_csm.services.collaboration.onboard import plan_onboard
from gl_csm.services.collaboration.team_sync import PASSAGE_KEY
from gl_csm.services.setup import plan_setup
from tests.services.triage_world import ACCOUNTS, World

D = date.fromisoformat
POST = "account-management/customers"
PAID = D("2026-11-10")
WINDOW_END = PAID + timedelta(days=60)  # strategic onboarding window (SPEC 3)
PERSON = "\nOur own note: the platform team meets on Tuesdays.\n"


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = World(tmp_path)
    w.add("initech", "Initech", customer_since=PAID, onboarding_completed=None)
    assert plan_setup(w.gateway, w.settings).apply(w.gateway).exit_code == 0
    assert plan_onboard(w.gateway, w.settings, "initech", w.today).apply(w.gateway).exit_code == 0
    return w


def _card(world: World) -> dict:
    tracking = next(
        i for i in world.issues(ACCOUNTS) if "gl-csm:tracking:initech" in i["description"]
    )
    return card_data(tracking["description"])


def test_the_readme_says_onboarding_is_complete_once_the_window_ends_and_nothing_more(
    world: World,
) -> None:
    readme = world.person_appends_to_readme(f"{POST}/initech", PERSON)
    person = world.person()
    pid = person.project(f"{POST}/initech")["id"]  # type: ignore[index]
    assert "**Where we are:** onboarding." in readme
    outcome, _, _ = world.run()
    assert outcome.exit_code == 0, outcome.failures
    assert _card(world)[PASSAGE_KEY] == f"onboarding until {WINDOW_END}"
    _, _, quiet = world.run()
    assert quiet.writes == 0

    # Days within the window: the same record, nothing read beyond the usual.
    _, _, within = world.run(WINDOW_END - timedelta(days=1))
    assert within.reads == quiet.reads

    # The window ends: one commit, the README's passage only; what people wrote stays.
    commits = len(person.commits(pid))
    outcome, run, changed = world.run(WINDOW_END)
    assert outcome.exit_code == 0, outcome.failures
    actions = [(c.action, c.target) for c in run.plan.changes if c.target.startswith(POST)]
    assert actions == [("commit", f"{POST}/initech")]
    assert len(person.commits(pid)) == commits + 1
    readme = person.file_text(pid, "README.md", "main") or ""
    assert "**Where we are:** your onboarding is complete" in readme
    assert "**Where we are:** onboarding." not in readme
    assert "next Executive Business Review with your executives: 2027-05-10." in readme
    assert readme.endswith(PERSON)
    # The instructions' "Now: onboarding and adoption" still holds: not rewritten.
    [commit] = [c for c in run.plan.changes if c.action == "commit"]
    assert commit.detail.endswith("the phase passages of README.md [customer-visible]") or (
        "1 file(s) in one commit: the phase passages of README.md" in commit.detail
    )
    assert changed.reads > quiet.reads

    # The rerun, and the next day: no commit, the reads of before.
    _, _, again = world.run()
    assert again.writes == 0
    _, _, later = world.run(WINDOW_END + timedelta(days=1))
    assert len(person.commits(pid)) == commits + 1 and later.reads == within.reads


def test_a_renewal_moved_in_the_registry_is_what_the_readme_says(world: World) -> None:
    world.run(WINDOW_END)
    person = world.person()
    project = person.project(f"{POST}/initech")
    assert project is not None
    before = person.file_text(project["id"], "README.md", "main") or ""
    assert "Your subscription renews on 2028-02-28." not in before
    path = world.root / "accounts" / "initech.yml"
    data = yaml.safe_load(path.read_text())
    data["renewal_date"] = "2028-02-28"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    outcome, _, _ = world.run(WINDOW_END + timedelta(days=1))
    assert outcome.exit_code == 0, outcome.failures
    readme = person.file_text(project["id"], "README.md", "main") or ""
    assert "Your subscription renews on 2028-02-28." in readme
