"""The stamp of a bot issue's generated part (services/triage/generated.py):
a no-op rerun knows each open triage, escalation and reminder issue is up to date
without rendering it, and the stamp never makes the bot write on its own."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from gl_csm import markers
from gl_csm.domain.account import Account, parse_account
from gl_csm.domain.assessment import assess
from gl_csm.domain.rules import DEFAULT_RULES
from gl_csm.services import tracking
from gl_csm.services.rendered_from import names_read
from gl_csm.services.triage import generated
from tests.services.triage_world import ACCOUNTS, ESCALATIONS, RED, TRIAGE, World

D = date.fromisoformat
# Every reminder kind that is an issue has a generated part: taken from the one table,
# so a new kind is covered without being listed here.
GENERATED = ("triage_issue.md.j2", "escalation_issue.md.j2") + tuple(
    kind.template for kind in DEFAULT_RULES.reminders if kind.post == "issue"
)


@pytest.fixture
def world(tmp_path: Path) -> World:
    world = World(tmp_path)
    world.add(
        "initech",
        "Initech",
        renewal_date=D("2027-03-31"),
        **{**RED, "risk": {**RED["risk"], "escalation_requested": True}},
    )
    world.add("acme", "Acme", renewal_date=D("2027-03-31"))
    # A customer since mid-2025: its yearly EBR (2026-12-15) is within the lead time.
    world.add("globex", "Globex", customer_since=D("2025-06-15"))
    return world


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """The generated templates rendered, by name."""
    counted: Counter = Counter()
    real = generated.render_template

    def counting(name: str, context):  # type: ignore[no-untyped-def]
        if name in GENERATED:
            counted[name] += 1
        return real(name, context)

    monkeypatch.setattr(generated, "render_template", counting)
    return counted


def _issue(world: World, project: str, kind: str, key: str) -> dict:
    return markers.index_by_marker(world.issues(project), kind)[key]


def _review(world: World) -> dict:
    return _issue(world, ACCOUNTS, "reminder", "acme:renewal-review:2027-03-31:3")


def test_a_noop_rerun_renders_no_generated_part(world: World, renders: Counter) -> None:
    world.run()
    assert set(renders) == set(GENERATED)  # every kind of generated part was made
    renders.clear()
    outcome, _, stats = world.run()
    assert stats.writes == 0 and outcome.changes == []
    assert renders == Counter()


def test_a_changed_input_renders_and_rewrites_that_part_only(
    world: World, renders: Counter
) -> None:
    world.run()
    renders.clear()
    world.add("acme", "Acme", renewal_date=D("2027-03-31"), arr=640000)
    outcome, _, _ = world.run()
    assert "(ARR $640,000)" in _review(world)["description"]
    assert renders["reminder_renewal_review.md.j2"] == 2  # acme's two reviews
    # initech's issues did not change: known from their stamps, not rendered.
    assert renders["triage_issue.md.j2"] == renders["escalation_issue.md.j2"] == 0
    renders.clear()
    _, _, stats = world.run()
    assert stats.writes == 0 and renders == Counter()


def test_a_ticked_box_is_kept_without_a_write(world: World, renders: Counter) -> None:
    """A tick changes the part's text: its hash no longer matches, so the part is
    rendered and compared (ticks carried over): equal, nothing is written."""
    world.run()
    review = _review(world)
    task = "- [ ] Schedule the renewal review meeting with the AE and SA"
    ticked = review["description"].replace(task, task.replace("[ ]", "[x]"))
    world.person().update_issue(ACCOUNTS, review["iid"], description=ticked)
    renders.clear()
    _, _, stats = world.run()
    assert stats.writes == 0 and renders == Counter({"reminder_renewal_review.md.j2": 1})
    assert task.replace("[ ]", "[x]") in _review(world)["description"]


def test_an_edit_inside_the_part_is_restored(world: World) -> None:
    """Same inputs, edited text: the text hash catches it (as the card's does)."""
    world.run()
    issue = _issue(world, TRIAGE, "triage", "initech")
    edited = issue["description"].replace("## Account triage: Initech", "## Not our problem")
    world.person().update_issue(TRIAGE, issue["iid"], description=edited)
    _, _, stats = world.run()
    assert stats.writes == 1
    assert "## Account triage: Initech" in _issue(world, TRIAGE, "triage", "initech")["description"]
    _, _, stats = world.run()
    assert stats.writes == 0


def test_a_part_without_a_stamp_is_not_rewritten_for_it(world: World, renders: Counter) -> None:
    """An issue written before stamps existed (or whose stamp a person deleted): the
    part is rendered and compared without stamps; the same text means no write."""
    world.run()
    issue = _issue(world, ESCALATIONS, "escalation", "initech")
    bare = generated._STAMP_RE.sub("", issue["description"])
    assert bare != issue["description"]
    world.person().update_issue(ESCALATIONS, issue["iid"], description=bare)
    renders.clear()
    _, _, stats = world.run()
    assert stats.writes == 0 and renders == Counter({"escalation_issue.md.j2": 1})


def test_the_stamp_is_the_same_in_every_process_and_checkout(world: World) -> None:
    """str hashing is randomised per process and a CI checkout sits anywhere: neither
    may move the digest, or every run would render every part."""
    world.run()
    script = (
        "import sys\nfrom pathlib import Path\nfrom gl_csm.config import load_settings\n"
        "from gl_csm.registry import load_registry\n"
        "from gl_csm.services.triage import generated\n"
        "s = load_settings(Path(sys.argv[1]), environ={})\n"
        "acct = load_registry(s.accounts_dir).by_slug()['initech']\n"
        "ctx = {'account': acct, 'due': acct.renewal_date, 'people': [('csm', '@alice')]}\n"
        "print(generated.inputs_digest('t.md.j2', 'text', ctx))\n"
    )
    digests = world.printed_in_other_processes(script)
    assert len(digests) == 1 and len(digests.pop()) == 16


def test_a_line_made_inert_by_the_gateway_keeps_the_part_up_to_date() -> None:
    """The gateway puts a zero-width space before every line starting with `/` (issue
    10, templates.inert_commands): the stamp hashes the text as GitLab stores it, and a
    rendered part compares equal to its stored, inert self."""
    from gl_csm.templates import inert_commands

    rendered = f"top\n{generated.BEGIN}\nnotes:\n/close is what they typed\n{generated.END}\n"
    stored = inert_commands(generated.stamped(rendered, "0123456789abcdef"))
    assert "\u200b/close" in stored
    assert generated.up_to_date(stored, "0123456789abcdef")
    assert generated.refreshed(stored, rendered, "0123456789abcdef") is None
    assert not generated.up_to_date(stored, "fedcba9876543210")


@pytest.fixture
def card_renders(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """The cards rendered."""
    counted: Counter = Counter()
    real = tracking.render_template

    def counting(name: str, context):  # type: ignore[no-untyped-def]
        if name == tracking.CARD_TEMPLATE:
            counted[name] += 1
        return real(name, context)

    monkeypatch.setattr(tracking, "render_template", counting)
    return counted


def test_a_registry_value_no_text_shows_moves_no_stamp(
    world: World, renders: Counter, card_renders: Counter
) -> None:
    """The stamps hash what a part is rendered from, not the whole account: the stages
    adopted count for a commercial account's priority only, and nothing shows them for
    these strategic accounts, so no part nor card is even rendered again."""
    world.run()
    renders.clear()
    card_renders.clear()
    for slug, name in (("acme", "Acme"), ("initech", "Initech")):
        extra = {**RED, "risk": {**RED["risk"], "escalation_requested": True}}
        keys = {"renewal_date": D("2027-03-31")} | (extra if slug == "initech" else {})
        world.add(slug, name, stages_adopted=["create", "verify", "secure"], **keys)
    outcome, _, stats = world.run()
    assert stats.writes == 0 and outcome.changes == [], [c.detail for c in outcome.changes]
    assert renders == Counter() and card_renders == Counter()


def _wider(account: Account) -> Account:
    """The account with one more registry field, as a later version of the parser would
    read it (a field no template reads)."""
    wider = dataclasses.make_dataclass(
        "WiderAccount",
        [("crm_id", str, dataclasses.field(default="0015g00000ABC"))],
        bases=(type(account),),
        frozen=True,
    )
    values = {f.name: getattr(account, f.name) for f in dataclasses.fields(account)}
    return wider(**values)  # type: ignore[no-any-return]


@pytest.mark.parametrize("template", (*GENERATED, tracking.CARD_TEMPLATE))
def test_a_new_account_field_moves_no_digest(template: str) -> None:
    """Each generated part's inputs: a field added to the account that the template
    does not read changes nothing; a field it reads (the name) does."""
    account = parse_account({"name": "Acme", "segment": "strategic"}, "acme.yml", "acme")
    source = tracking.template_text(template)
    context = {"account": account, "today": D("2026-11-23")}
    digest = generated.inputs_digest(template, source, context)
    assert generated.inputs_digest(template, source, {**context, "account": _wider(account)}) == (
        digest
    )
    if "account" not in names_read(source):
        return  # a part of a CSM's, not an account's
    renamed = dataclasses.replace(account, name="Acme Labs")
    assert generated.inputs_digest(template, source, {**context, "account": renamed}) != digest


def test_the_card_digest_ignores_a_new_account_field(settings) -> None:  # type: ignore[no-untyped-def]
    account = parse_account(
        {"name": "Acme", "segment": "strategic", "customer_since": D("2024-03-01")},
        "acme.yml",
        "acme",
    )
    a = assess(account, settings.rules, D("2026-11-23"))
    extra = tracking.CardExtra()
    _, digest = tracking._card_inputs(a, settings, project=None, extra=extra)
    wider = dataclasses.replace(a, account=_wider(account))
    assert tracking._card_inputs(wider, settings, project=None, extra=extra)[1] == digest
    moved = dataclasses.replace(a, account=dataclasses.replace(account, plan="premium"))
    assert tracking._card_inputs(moved, settings, project=None, extra=extra)[1] != digest
