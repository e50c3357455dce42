"""A renewal date moved: the bot first sees a renewal less than 3 months away (both the
"5 months out" and the "3 months out" stages already past), then a CRM import moves the
renewal out by three months. One renewal review per stage, always; a moved renewal
re-dates the open reviews (SPEC 2 `accounts import`, 5.2 Renewal reviews)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.stories.accounts import customer
from tests.stories.golden import check_transcript
from tests.stories.world import ACCOUNTS, World

SLUG = "kramerica"
OLD = date(2027, 1, 20)
NEW = date(2027, 4, 30)
CSV = f"Account Name,Account Slug,Renewal Date\nKramerica Industries,{SLUG},{NEW.isoformat()}\n"


def _reviews(w: World) -> list[dict]:
    return [
        i
        for i in w.reader.issues(ACCOUNTS, state="all")
        if f"gl-csm:reminder:{SLUG}:renewal-review" in (i.get("description") or "")
    ]


def tell(w: World) -> None:
    def crm() -> None:
        w.kept["registry before import"] = w.data(SLUG)
        w.accounts_import(CSV)
        w.kept["registry after import"] = w.data(SLUG)

    w.day(date(2026, 11, 2))
    w.triage()
    w.kept["first day"] = [dict(i) for i in _reviews(w)]
    w.transcript.snapshot()
    w.run_days(date(2026, 11, 3), date(2026, 11, 30), {date(2026, 11, 16): crm})
    w.kept["rerun writes"] = w.rerun_writes()


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> World:
    w = World(
        tmp_path_factory.mktemp("story") / "w",
        "A renewal date moved (Kramerica Industries, strategic, NORAM)",
        date(2026, 11, 2),
        {SLUG: customer("Kramerica Industries", renewal_date=OLD)},
    )
    tell(w)
    return w


def _open(w: World) -> list[dict]:
    return [i for i in _reviews(w) if i["state"] == "opened"]


def test_transcript(story: World, request: pytest.FixtureRequest) -> None:
    check_transcript(request, Path(__file__).stem.removeprefix("test_"), story.rendered())


def test_first_day_past_stages_folded_into_one_review(story: World) -> None:
    assert len(story.kept["first day"]) == 1, [i["title"] for i in story.kept["first day"]]


def test_first_day_no_two_reviews_due_the_same_day(story: World) -> None:
    dues = [i["due_date"] for i in story.kept["first day"]]
    assert len(set(dues)) == len(dues), dues


def test_folded_review_is_due_on_the_first_day(story: World) -> None:
    assert [i["due_date"] for i in story.kept["first day"]] == ["2026-11-02"]


def test_reviews_mention_the_ae_and_sa(story: World) -> None:
    first = story.kept["first day"][0]
    assert "@carol" in first["description"] and "@bob" in first["description"]


def test_import_changes_only_the_renewal_date(story: World) -> None:
    before, after = story.kept["registry before import"], story.kept["registry after import"]
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed == {"renewal_date"} and after["renewal_date"] == NEW


def test_one_open_review_per_stage_after_the_move(story: World) -> None:
    assert len(_open(story)) == 2, [i["title"] for i in _open(story)]


def test_open_reviews_are_dated_from_the_new_renewal(story: World) -> None:
    assert {i["due_date"] for i in _open(story)} == {"2026-11-30", "2027-01-30"}


def test_no_open_review_names_the_old_renewal_date(story: World) -> None:
    old = OLD.isoformat()
    assert not [i["title"] for i in _open(story) if old in i["title"] + i["description"]]


def test_card_no_longer_names_the_old_renewal_date(story: World) -> None:
    assert OLD.isoformat() not in story.description("tracking", SLUG)


def test_card_lists_one_review_per_stage(story: World) -> None:
    card = story.description("tracking", SLUG)
    assert card.count("Renewal review (") <= 2, card


def test_closed_reviews_say_why(story: World) -> None:
    project = ACCOUNTS
    for issue in _reviews(story):
        if issue["state"] == "closed":
            notes = [n["body"] for n in story.reader.notes(project, issue["iid"])]
            assert any(NEW.isoformat() in n for n in notes), issue["title"]


def test_every_triage_exits_0(story: World) -> None:
    assert [(d, c) for d, c, _, _ in story.runs if c] == []


def test_same_day_rerun_writes_nothing(story: World) -> None:
    assert story.kept["rerun writes"] == 0
