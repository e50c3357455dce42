"""A new customer, from prospect to adoption: onboarded in pre-sales, pays, is promoted
on the AE's label, goes through the onboarding window (first value, checklist done) and
is adopting when the window ends (SPEC 3, 4.1, 5 Onboard/Promote, 5.2)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from tests.stories.accounts import prospect
from tests.stories.golden import check_transcript
from tests.stories.world import World

SLUG = "nakatomi"
PAID = date(2026, 11, 9)
WINDOW_END = date(2027, 1, 8)  # customer_since + 60 days (strategic window, SPEC 3)
CUSTOMER = "hans"  # the customer's GitLab administrator (outside the account team)
JENKINS = "How do we migrate our Jenkins pipelines?"
SSO = "SAML SSO for our group"
MONTHLY = date(2026, 12, 15)


def tell(w: World) -> None:
    """The story, day by day."""

    def pays() -> None:
        w.edit(
            SLUG,
            "the AE records the purchase from the CRM",
            customer_since=PAID,
            arr=240000,
            seats={"licensed": 400, "active": 0},
            renewal_date=date(2027, 11, 8),
            opportunities=None,
        )

    def first_users() -> None:
        w.edit(
            SLUG,
            "the CSM records the first month's usage",
            seats={"licensed": 400, "active": 64},
            usage={
                "as_of": date(2026, 12, 7),
                "monthly_active": 0.16,
                "scm": 0.3,
                "ci": 0.15,
                "devsecops": 0.05,
                "cd": 0.02,
            },
            engagement={
                "last_call": date(2026, 12, 3),
                "contacts": 3,
                "personas_last_90_days": ["development-lead"],
            },
            success_plan={"objectives": 3},
            sentiment={"health": "green", "updated": date(2026, 12, 7)},
        )

    def adopting() -> None:
        w.edit(
            SLUG,
            "the CSM records the usage at the end of onboarding",
            seats={"licensed": 400, "active": 250},
            usage={
                "as_of": date(2027, 1, 4),
                "monthly_active": 0.55,
                "scm": 0.6,
                "ci": 0.4,
                "devsecops": 0.2,
                "cd": 0.2,
            },
        )

    w.day(date(2026, 11, 2))
    w.onboard(SLUG)
    w.triage()
    w.transcript.snapshot()
    w.run_days(
        date(2026, 11, 3),
        date(2027, 1, 12),
        {
            PAID: pays,
            date(2026, 11, 10): lambda: w.label("carol", "tracking", SLUG, add=["action::promote"]),
            # A customer's question nobody answers (SPEC 4.1: the CSM is told once), and
            # one the CSM answers the next day (nobody is told).
            date(2026, 11, 24): lambda: w.open_customer_issue(
                CUSTOMER, SLUG, JENKINS, ["question"]
            ),
            date(2026, 12, 1): lambda: w.open_customer_issue(CUSTOMER, SLUG, SSO, ["question"]),
            date(2026, 12, 2): lambda: w.reply_customer_issue(
                "alice", SLUG, SSO, "Here is how to set up SAML SSO for your group."
            ),
            date(2026, 12, 7): first_users,
            # The CSM books the monthly call with the Meeting-agenda template.
            date(2026, 12, 10): lambda: w.open_customer_issue(
                "alice", SLUG, f"Monthly check-in - {MONTHLY}", ["meeting"]
            ),
            # handbook 004 "Infrastructure Ready": GitLab.com integrated (SAML SSO set
            # up); the CSM closes the milestone, no issue on it is touched.
            date(2026, 12, 14): lambda: w.close_customer_milestone(
                "alice", SLUG, "Implementation - infrastructure ready"
            ),
            date(2026, 12, 18): lambda: w.close_customer_issue("alice", SLUG, "Onboarding"),
            date(2027, 1, 5): adopting,
            # handbook 004 "Outcome Achieved": the purchase intent (SCM and CI for the
            # first teams) delivered, agreed with the customer at the end of onboarding.
            date(2027, 1, 11): lambda: w.close_customer_milestone(
                "alice", SLUG, "Outcome achieved"
            ),
        },
    )
    w.kept["rerun writes"] = w.rerun_writes()


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> World:
    w = World(
        tmp_path_factory.mktemp("story") / "w",
        "A new customer from prospect to adoption (Nakatomi Trading, strategic, NORAM)",
        date(2026, 11, 2),
        {SLUG: prospect("Nakatomi Trading")},
    )
    tell(w)
    return w


def test_transcript(story: World, request: pytest.FixtureRequest) -> None:
    check_transcript(request, Path(__file__).stem.removeprefix("test_"), story.rendered())


def _customer_text(w: World) -> str:
    return "\n".join(w.customer_texts(SLUG).values())


def test_pre_sales_project_in_the_pre_sales_group(story: World) -> None:
    first = story.transcript.render().split("## 2026-11-03")[0]
    assert "customer project account-management/pre-sales/nakatomi: the project — new" in first


def test_triage_asks_the_ae_and_csm_to_promote_once_paid(story: World) -> None:
    asks = [n for n in story.bot_notes("tracking", SLUG) if "action::promote" in n]
    assert len(asks) == 1 and "@carol" in asks[0] and "@alice" in asks[0], asks


def test_promote_moves_the_project_to_post_sales(story: World) -> None:
    project = story.customer_project(SLUG)
    assert project["path_with_namespace"] == "account-management/customers/nakatomi"


def test_promote_makes_the_csm_owner(story: World) -> None:
    project = story.customer_project(SLUG)
    members = {m["username"]: m["access_level"] for m in story.reader.members(project["id"])}
    assert members.get("alice") == 50, members


def test_welcome_call_assigned_to_the_ae_with_a_due_date(story: World) -> None:
    call = story.customer_issue(SLUG, "Welcome to GitLab call")
    assert [a["username"] for a in call["assignees"]] == ["carol"] and call["due_date"]


def test_promote_label_removed_after_promote(story: World) -> None:
    assert "action::promote" not in story.issue("tracking", SLUG)["labels"]


def test_onboarding_checklist_done_sets_onboarding_completed_on_the_card(story: World) -> None:
    card = story.description("tracking", SLUG)
    assert "| Onboarding completed | - |" not in card


def test_card_shows_time_to_first_value(story: World) -> None:
    assert "First Value" in story.description("tracking", SLUG) or "first value" in (
        story.description("tracking", SLUG)
    )


def test_card_shows_each_time_to_value_figure(story: World) -> None:
    card = story.description("tracking", SLUG)
    # The Welcome call (due customer_since + 7, set by promote), first value when 64 of
    # 400 seats were active, onboarding when the checklist was closed (handbook 004).
    assert "- Engagement: 2026-11-16 (7 days)" in card, card
    assert "- First Value: 2026-12-07 (28 days)" in card, card
    assert "- Onboarding: 2026-12-18 (39 days)" in card, card
    # The milestones closed with no issue on them (the group's milestone listing,
    # services/triage/evidence.py): their day is the close (the milestone's updated_at).
    assert (
        '- Infrastructure Ready: 2026-12-14 (35 days): the milestone "Implementation - '
        'infrastructure ready" closed' in card
    ), card
    assert (
        '- Outcome Achieved: 2027-01-11 (63 days): the milestone "Outcome achieved" closed' in card
    ), card


def test_card_says_the_last_call_comes_from_the_meeting_issue(story: World) -> None:
    card = story.description("tracking", SLUG)
    # The bot's own reference is written as is, so GitLab links it (templates.reference).
    meeting = story.customer_issue(SLUG, "Monthly check-in")
    ref = f"account-management/customers/nakatomi#{meeting['iid']}"
    assert f"Last call: {MONTHLY.isoformat()} from {ref}" in card, card
    assert "last call on 2026-12-15" in card, card


def test_card_says_onboarding_completed_from_the_checklist(story: World) -> None:
    card = story.description("tracking", SLUG)
    # The bot's own reference is written as is, so GitLab links it (templates.reference).
    checklist = story.customer_issue(SLUG, "Onboarding checklist")
    ref = f"account-management/customers/nakatomi#{checklist['iid']}"
    assert f"Onboarding completed: 2026-12-18 from {ref}" in card, card
    assert (
        "**Onboarding completed:** 2026-12-18" in card
        or "| Onboarding completed | 2026-12-18" in card
    )


def test_csm_told_once_of_the_customer_issue_nobody_answered(story: World) -> None:
    told = [n for n in story.bot_notes("tracking", SLUG) if "business days" in n]
    assert len(told) == 1, told
    # The bot's reference to the customer's issue is written as is (GitLab links it).
    assert re.search(r"customer's issue account-management/customers/nakatomi#\d+ \(", told[0])
    assert "@alice" in told[0] and "Jenkins" in told[0] and "SAML" not in told[0], told
    before = story.transcript.render().split("business days or more for a reply")[0]
    day = re.findall(r"^## (\d{4}-\d{2}-\d{2})", before, flags=re.M)[-1]
    assert day == "2026-11-26", day  # opened on a Tuesday, told two business days later


def _ttv_section(w: World, day: date) -> str:
    report = w.reports[day]
    return report.split("## Time to value (handbook 004)", 1)[1].split("\n## ", 1)[0]


def test_summary_issue_time_to_value_each_step(story: World) -> None:
    assert "No paying customer yet." in _ttv_section(story, date(2026, 11, 2))
    paid = _ttv_section(story, PAID)
    assert "| strategic | Engagement | 0 of 1 | - | - | - |" in paid, paid
    called = _ttv_section(story, date(2026, 11, 17))
    assert "| strategic | Engagement | 1 of 1 | 7 | 7–7 | 7–7 |" in called, called
    first_value = _ttv_section(story, date(2026, 12, 7))
    assert "| strategic | First Value | 1 of 1 | 28 | 28–28 | 28–28 |" in first_value
    assert "| strategic | Onboarding | 0 of 1 |" in first_value, first_value
    done = _ttv_section(story, date(2026, 12, 18))
    assert "| strategic | Onboarding | 1 of 1 | 39 | 39–39 | 39–39 |" in done, done


def test_end_of_onboarding_note_asks_to_reassess_priority(story: World) -> None:
    notes = [n for n in story.bot_notes("tracking", SLUG) if "onboarding" in n and "ended" in n]
    assert len(notes) == 1 and "@alice" in notes[0]


def test_adopting_after_the_onboarding_window(story: World) -> None:
    labels = story.issue("tracking", SLUG)["labels"]
    assert "lifecycle::adopting" in labels and "lifecycle::onboarding" not in labels


def test_readme_no_longer_says_onboarding_after_the_window(story: World) -> None:
    assert "**Where we are:** onboarding" not in story.customer_file(SLUG, "README.md")


def test_no_promise_to_follow_every_ticket(story: World) -> None:
    assert "follows every ticket you open" not in _customer_text(story)


def test_no_internal_kpi_wording_for_the_customer(story: World) -> None:
    assert "KPI" not in _customer_text(story)


def test_team_members_are_profile_links(story: World) -> None:
    readme = story.transcript.clean(story.customer_file(SLUG, "README.md"))
    assert "https://gitlab.example.com/alice" in readme or "@alice" in readme


def test_pre_sales_card_speaks_without_spec_references(story: World) -> None:
    first_card = story.transcript.render().split("### Next dates")[0]
    assert "SPEC" not in first_card


def test_card_has_no_empty_table_header_row(story: World) -> None:
    assert "| | |\n|---|---|" not in story.description("tracking", SLUG)


def test_report_headline_counts_one_account_in_the_singular(story: World) -> None:
    assert "1 accounts" not in story.reports[max(story.reports)]


def test_every_triage_exits_0(story: World) -> None:
    assert [(d, c) for d, c, _, _ in story.runs if c] == []


def test_same_day_rerun_writes_nothing(story: World) -> None:
    assert story.kept["rerun writes"] == 0


def test_infrastructure_milestone_speaks_of_the_customers_own_deployment(story: World) -> None:
    texts = story.customer_texts(SLUG)
    [milestone] = [t for k, t in texts.items() if k.startswith("milestone Implementation")]
    assert "GitLab.com" in milestone
    assert "self-managed" not in milestone and "hybrid" not in milestone, milestone


def test_promote_closes_the_pre_sales_proof_of_concept_with_a_note(story: World) -> None:
    # README "Collaboration projects": promote closes the bot's pre-sales issues, never
    # deletes them, and says why on each.
    issues = {i["title"]: i for i in story.customer_issues(SLUG)}
    poc = issues["Proof of concept - success criteria and plan"]
    assert poc["state"] == "closed"
    project = story.customer_project(SLUG)
    notes = [n["body"] for n in story.reader.notes(project["id"], poc["iid"])]
    assert any("pre-sales issue is closed" in n for n in notes), notes
