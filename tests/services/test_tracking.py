"""The account tracking issue (SPEC 1, 4): `plan_tracking_issue` as onboard and triage use it."""

from __future__ import annotations

from datetime import date

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan
from gl_csm.registry import load_registry
from gl_csm.services.tracking import (
    CARD_BEGIN,
    CARD_END,
    CardExtra,
    card_data,
    compose_description,
    label_delta,
    plan_tracking_issue,
    sentiment_since,
)

TODAY = date(2026, 11, 23)
ACCOUNTS = "customer-success/accounts"


def _account(settings: Settings, slug: str):  # type: ignore[no-untyped-def]
    return load_registry(settings.accounts_dir, [slug]).accounts[0]


def _find(gateway: Gateway, slug: str) -> dict | None:
    return markers.index_by_marker(gateway.issues(ACCOUNTS, state="all"), "tracking").get(slug)


def _plan(gateway: Gateway, settings: Settings, slug: str, **kw):  # type: ignore[no-untyped-def]
    plan = Plan()
    plan_tracking_issue(
        plan,
        gateway,
        settings,
        _account(settings, slug),
        TODAY,
        existing=_find(gateway, slug),
        project=kw.pop("project", None),
        **kw,
    )
    return plan


def test_create_then_nothing_to_do(gateway: Gateway, settings: Settings) -> None:
    plan = _plan(gateway, settings, "acme-corp")
    assert [c.action for c in plan.changes] == ["create-issue"]
    assert plan.apply(gateway).exit_code == 0
    issue = _find(gateway, "acme-corp")
    assert issue is not None and issue["title"] == "Acme Corp"
    assert set(issue["labels"]) == {
        "priority::1",
        "health::green",
        "lifecycle::adopting",
        "segment::strategic",
    }
    assert [a["username"] for a in issue["assignees"]] == ["alice"]
    desc = issue["description"]
    assert desc.index("gl-csm:tracking:acme-corp") < desc.index(CARD_BEGIN) < desc.index(CARD_END)
    for text in (
        "$650,000",
        "strategic: ARR",
        "| Product | License utilization | green | 84% of seats active after 44 months | 30% |",
        "| **total** |",
        "Overrides applied",
        "Next dates",
        "Open issues",
    ):
        assert text in desc, text
    assert _plan(gateway, settings, "acme-corp").changes == []


def test_marker_of_a_longer_slug_is_not_mistaken(gateway: Gateway, settings: Settings) -> None:
    """gl-csm:tracking:acme-corp is a prefix of gl-csm:tracking:acme-corp-labs."""
    _plan(gateway, settings, "acme-corp-labs").apply(gateway)
    assert gateway.find_issue_by_marker(ACCOUNTS, "gl-csm:tracking:acme-corp") is None
    plan = _plan(gateway, settings, "acme-corp")
    assert [c.action for c in plan.changes] == ["create-issue"]


def test_project_link_and_person_text_kept(gateway: Gateway, settings: Settings) -> None:
    _plan(gateway, settings, "acme-corp").apply(gateway)
    issue = _find(gateway, "acme-corp")
    assert issue is not None
    gateway.update_issue(
        ACCOUNTS,
        issue["iid"],
        description=issue["description"] + "\n\nCSM notes.",
        add_labels="vip",
    )
    project = {
        "web_url": "https://gitlab.example.com/am/customers/acme-corp",
        "path_with_namespace": "am/customers/acme-corp",
    }
    plan = _plan(gateway, settings, "acme-corp", project=project)
    assert [c.action for c in plan.changes] == ["update-issue"]
    plan.apply(gateway)
    issue = _find(gateway, "acme-corp")
    assert issue is not None
    assert (
        "[am/customers/acme-corp](https://gitlab.example.com/am/customers/acme-corp)"
        in issue["description"]
    )
    assert issue["description"].endswith("CSM notes.") and "vip" in issue["labels"]


def test_outside_triage_the_hidden_data_is_kept(gateway: Gateway, settings: Settings) -> None:
    plan = Plan()
    acct = _account(settings, "acme-corp")
    plan_tracking_issue(
        plan,
        gateway,
        settings,
        acct,
        TODAY,
        existing=None,
        project=None,
        extra=CardExtra(data={"sentiment": "green", "since": "2026-10-01"}),
    )
    plan.apply(gateway)
    # onboard calls without extra: the data triage recorded stays.
    assert _plan(gateway, settings, "acme-corp").changes == []
    assert card_data(_find(gateway, "acme-corp")["description"])["since"] == "2026-10-01"


def test_card_text_is_neutralised(gateway: Gateway, settings: Settings) -> None:
    path = settings.accounts_dir / "acme-corp.yml"
    path.write_text(path.read_text().replace("name: Acme Corp", 'name: "@all /close <!-- x -->"'))
    _plan(gateway, settings, "acme-corp").apply(gateway)
    desc = _find(gateway, "acme-corp")["description"]
    assert "@all" not in desc and "<!-- x" not in desc


def test_label_delta_keeps_people_labels() -> None:
    from gl_csm.domain.taxonomy import Taxonomy

    tax = Taxonomy()
    add, remove = label_delta(
        ["health::red", "vip", "sentiment::red"], ["health::green"], ("health",), tax
    )
    assert add == ["health::green"] and remove == ["health::red"]


def test_sentiment_since() -> None:
    assert sentiment_since({}, "yellow", TODAY, None) == "2026-11-23"
    prev = {"sentiment": "yellow", "since": "2026-10-01"}
    assert sentiment_since(prev, "yellow", TODAY, None) == "2026-10-01"
    assert sentiment_since(prev, "red", TODAY, None) == "2026-11-23"
    assert sentiment_since(prev, "yellow", TODAY, date(2026, 11, 1)) == "2026-11-01"
    assert sentiment_since(prev, None, TODAY, None) is None


def test_compose_without_card_markers_puts_the_card_on_top() -> None:
    out = compose_description("<!-- gl-csm:tracking:x -->", "CARD", "person text")
    assert out.startswith("<!-- gl-csm:tracking:x -->\n" + CARD_BEGIN) and out.endswith(
        "person text"
    )


def test_card_lines_stay_lines_and_every_table_has_a_header(
    gateway: Gateway, settings: Settings
) -> None:
    """GitLab Markdown joins consecutive text lines into one paragraph, and a table's
    first row is its header (doc/user/markdown.md, Tables): the card's facts are list
    items, each on its own line, and no table starts with an empty header row."""
    _plan(gateway, settings, "acme-corp").apply(gateway)
    desc = _find(gateway, "acme-corp")["description"]
    card = desc[desc.index(CARD_BEGIN) : desc.index(CARD_END)]
    lines = card.splitlines()
    for fact in ("CSM sentiment:", "Needs triage:", "**Segment:**", "**Renewal:**"):
        (line,) = [line for line in lines if fact in line]
        assert line.startswith("- "), line  # its own list item, not a joined sentence
    headers = [
        line
        for i, line in enumerate(lines)
        if line.startswith("|") and (i == 0 or not lines[i - 1].startswith("|"))
    ]
    assert headers and all(cell.strip() for h in headers for cell in h.strip("|").split("|"))


def test_the_card_reads_the_scorecard_in_words(gateway: Gateway, settings: Settings) -> None:
    """Measure names, readings with their units, groups and overrides in people's words;
    no measure key, no bare ratio, no Python list, no day count (it would change daily)."""
    _plan(gateway, settings, "initech").apply(gateway)
    desc = _find(gateway, "initech")["description"]
    card = desc[desc.index(CARD_BEGIN) : desc.index("<!-- gl-csm-data")]
    for text in (
        "### Health: red (score 13.5)",
        "| Product | License utilization | red | 36% of seats active after 47 months | 30% |",
        "| Product | User engagement | red | 22% of users active in the month | 10% |",
        "| Engagement | Meeting cadence | yellow | last call on 2026-09-02 | 50% |",
        "| Engagement | Persona engagement | red | no key persona in the last 90 days | 50% |",
        "| Voice of the customer | Support | red | 17 tickets in the last 30 days | 50% |",
        "| Voice of the customer | 5 | 0.0 |",
        "- red CSM sentiment makes the account red",
        "- potential contraction or churn makes the account red",
    ):
        assert text in card, text
    for key in ("license_utilization", "persona_engagement", "meeting_cadence", "| [] |"):
        assert key not in card, key
    assert " 0.22 " not in card and "days since" not in card and "risk.contraction" not in card


def test_a_green_score_overridden_says_what_decided(gateway: Gateway, settings: Settings) -> None:
    _plan(gateway, settings, "stark-industries").apply(gateway)
    desc = _find(gateway, "stark-industries")["description"]
    assert "### Health: yellow (score 89): overridden by " in desc
    assert "- champion left makes the account yellow" in desc


def test_a_pre_sales_card_says_in_words_why_there_is_no_health(
    gateway: Gateway, settings: Settings
) -> None:
    _plan(gateway, settings, "tyrell").apply(gateway)
    desc = _find(gateway, "tyrell")["description"]
    assert "### Health: none (pre-sales)" in desc
    assert "once it is a paying customer" in desc
    assert "SPEC" not in desc and "| group |" not in desc
