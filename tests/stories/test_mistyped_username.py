"""A CSM's username mistyped in the registry: a merged MR writes `team.csm: alcie` (and
asks for triage) for an account of alice's. The scheduled triage must fail loudly, naming
the account and the key, in the text CI shows, in `--format json` and in the summary
issue; once the typo is fixed the issues are alice's again (SPEC 2 bad input, 7 exit
codes)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.stories.accounts import customer
from tests.stories.golden import check_transcript
from tests.stories.world import TEAM, World

SLUG = "cyberdyne"
TYPO_DAY = date(2026, 11, 9)


def tell(w: World) -> None:
    w.run_days(
        date(2026, 11, 2),
        date(2026, 11, 23),
        {
            TYPO_DAY: lambda: w.edit(
                SLUG,
                "a merged MR: the CSM asks for triage, and mistypes her username",
                team={**TEAM, "csm": "alcie"},
                sentiment={"health": "yellow", "needs_triage": True, "updated": TYPO_DAY},
            ),
            date(2026, 11, 10): lambda: w.edit(
                SLUG, "the typo is fixed (merged MR)", team=dict(TEAM)
            ),
        },
    )
    w.kept["rerun writes"] = w.rerun_writes()


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> World:
    w = World(
        tmp_path_factory.mktemp("story") / "w",
        "A CSM's username mistyped in the registry (Cyberdyne Systems, strategic, NORAM)",
        date(2026, 11, 2),
        {SLUG: customer("Cyberdyne Systems")},
    )
    tell(w)
    return w


def _run_on(w: World, day: date) -> tuple[int, str]:
    found = [(code, text) for d, code, text, _ in w.runs if d == day]
    return found[0]


def test_transcript(story: World, request: pytest.FixtureRequest) -> None:
    check_transcript(request, Path(__file__).stem.removeprefix("test_"), story.rendered())


def test_triage_exits_1_on_the_day_of_the_typo(story: World) -> None:
    assert _run_on(story, TYPO_DAY)[0] == 1


def test_failure_names_the_account_and_team_csm(story: World) -> None:
    text = _run_on(story, TYPO_DAY)[1]
    assert SLUG in text and "team.csm" in text, text


def test_failure_names_the_unknown_username(story: World) -> None:
    text = _run_on(story, TYPO_DAY)[1]
    printed = text[: text.index("\n{")]  # the text output, before the JSON document
    assert "alcie" in printed, printed


def test_json_output_carries_the_problem(story: World) -> None:
    text = _run_on(story, TYPO_DAY)[1]
    json_part = text[text.index("\n{") :]
    assert "alcie" in json_part and "team.csm" in json_part


def test_summary_issue_names_the_problem(story: World) -> None:
    lines = story.reports[TYPO_DAY].splitlines()
    said = [x for x in lines if "alcie" in x and ("team.csm" in x or "not a GitLab user" in x)]
    assert said, "the summary issue does not say alcie is not a GitLab user"


def test_no_reminder_issue_for_the_mistyped_user(story: World) -> None:
    assert not story.has("reminder", "csm.alcie:priority-review:fy2027-q4")


def test_triage_exits_0_once_the_typo_is_fixed(story: World) -> None:
    assert [(d, c) for d, c, _, _ in story.runs if c and d > TYPO_DAY] == []


def test_triage_issue_is_alices_once_fixed(story: World) -> None:
    assert [a["username"] for a in story.issue("triage", SLUG)["assignees"]] == ["alice"]


def test_tracking_issue_is_alices_once_fixed(story: World) -> None:
    assert [a["username"] for a in story.issue("tracking", SLUG)["assignees"]] == ["alice"]


def test_same_day_rerun_writes_nothing(story: World) -> None:
    assert story.kept["rerun writes"] == 0


def test_summary_issue_leads_with_the_cause_not_the_write(story: World) -> None:
    lines = story.reports[TYPO_DAY].splitlines()
    assert any(x.startswith(f"- {SLUG}: team.csm 'alcie' is not a GitLab user") for x in lines)
