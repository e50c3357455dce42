"""A handoff during triage: a yellow account in triage moves from alice to erin
(`gl-csm handoff`); later the SA changes in the registry. The customer must read the
new team in the project, the account team must find the open issues on the new CSM,
and the previous CSM must be told the steps that are theirs (SPEC 5 Handoff, Onboard
"the bot's parts of customer-visible files follow the registry"; handbook 001)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from tests.stories.accounts import customer
from tests.stories.golden import check_transcript
from tests.stories.world import TEAM, World

SLUG = "prestige"
HANDOFF = f"{SLUG}/erin"  # the handoff checklist's key: account and new CSM


def tell(w: World) -> None:
    def handoff() -> None:
        w.handoff(SLUG, "erin")
        w.kept["verify after handoff"] = w.verify(SLUG)

    def sa_changes() -> None:
        w.edit(SLUG, "the SA changes (merged MR)", team={**TEAM, "csm": "erin", "sa": "frank"})

    w.day(date(2026, 11, 2))
    w.onboard(SLUG)
    w.triage()
    w.transcript.snapshot()
    w.run_days(
        date(2026, 11, 3),
        date(2026, 11, 27),
        {
            date(2026, 11, 5): lambda: w.comment(
                "alice", "triage", SLUG, "At-risk update: champion on leave, exec sponsor unclear."
            ),
            date(2026, 11, 10): handoff,
            date(2026, 11, 12): lambda: w.tick("erin", "handoff", HANDOFF),
            date(2026, 11, 16): sa_changes,
        },
    )
    w.kept["verify at the end"] = w.verify(SLUG)
    w.kept["rerun writes"] = w.rerun_writes()


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> World:
    w = World(
        tmp_path_factory.mktemp("story") / "w",
        "A handoff during triage (Prestige Worldwide, strategic, NORAM: alice -> erin)",
        date(2026, 11, 2),
        {
            SLUG: customer(
                "Prestige Worldwide",
                sentiment={"health": "yellow", "needs_triage": True, "updated": date(2026, 11, 1)},
            )
        },
    )
    tell(w)
    return w


def _team_row(readme: str, role: str) -> str:
    m = re.search(rf"^\|\s*{role}\s*\|.*$", readme, re.MULTILINE)
    return m.group(0) if m else ""


def test_transcript(story: World, request: pytest.FixtureRequest) -> None:
    check_transcript(request, Path(__file__).stem.removeprefix("test_"), story.rendered())


def test_handoff_is_done(story: World) -> None:
    assert not story.refusals and story.data(SLUG)["team"]["csm"] == "erin"


def test_readme_team_table_names_the_new_csm(story: World) -> None:
    row = _team_row(story.customer_file(SLUG, "README.md"), "Customer Success Manager")
    assert "erin" in row and "alice" not in row, row


def test_readme_team_table_names_the_new_sa(story: World) -> None:
    row = _team_row(story.customer_file(SLUG, "README.md"), "Solutions Architect")
    assert "frank" in row and "bob" not in row, row


def test_preloaded_issues_no_longer_name_the_old_csm(story: World) -> None:
    named = [
        i["title"]
        for i in story.customer_issues(SLUG)
        if i["state"] == "opened" and "Customer Success Manager (alice)" in (i["description"] or "")
    ]
    assert not named, named


def test_verify_reports_team_drift_when_the_readme_differs(story: World) -> None:
    row = _team_row(story.customer_file(SLUG, "README.md"), "Customer Success Manager")
    if "erin" not in row:
        assert "no drift" not in story.kept["verify after handoff"]


def test_new_csm_is_owner_of_the_customer_project(story: World) -> None:
    project = story.customer_project(SLUG)
    members = {m["username"]: m["access_level"] for m in story.reader.members(project["id"])}
    assert members.get("erin") == 50, members


def test_tracking_issue_assigned_to_the_new_csm(story: World) -> None:
    assert [a["username"] for a in story.issue("tracking", SLUG)["assignees"]] == ["erin"]


def test_triage_issue_assigned_to_the_new_csm(story: World) -> None:
    assert [a["username"] for a in story.issue("triage", SLUG)["assignees"]] == ["erin"]


def test_handoff_checklist_assigned_to_the_new_csm(story: World) -> None:
    assert "erin" in [a["username"] for a in story.issue("handoff", HANDOFF)["assignees"]]


def test_handoff_checklist_mentions_the_previous_csm(story: World) -> None:
    assert "alice" in story.mentioned("handoff", HANDOFF)


def test_handoff_checklist_says_the_customer_files_were_updated(story: World) -> None:
    assert "README" in story.description("handoff", HANDOFF)


def test_every_triage_exits_0(story: World) -> None:
    assert [(d, c) for d, c, _, _ in story.runs if c] == []


def test_same_day_rerun_writes_nothing(story: World) -> None:
    assert story.kept["rerun writes"] == 0


def test_new_sa_from_the_registry_is_a_member_of_the_project(story: World) -> None:
    # SPEC 5 Onboard "members by role": the team the README names can read the project.
    project = story.customer_project(SLUG)
    members = {m["username"]: m["access_level"] for m in story.reader.members(project["id"])}
    assert members.get("frank") == members.get("bob") == 40, members  # bob is not removed


def test_verify_finds_no_missing_member_at_the_end(story: World) -> None:
    assert "member" not in story.kept["verify at the end"], story.kept["verify at the end"]
