"""Nothing about internal process in a customer-visible text (SPEC 1):
every file and preloaded issue of a collaboration project, for every segment and phase,
is scanned for the vocabulary of the internal projects."""

from __future__ import annotations

import re

#: Words that belong to the internal projects and the team's tools, never to a customer.
INTERNAL_WORDS = (
    "priority",
    "tracking issue",
    "internal",
    "health",
    "ARR",
    "triage",
    "escalation",
    "sentiment",
    "churn",
    "at risk",
    "at-risk",
    "registry",
    "Gainsight",
    "Salesforce",
    "SFDC",
    "gl-csm",
    "action::",
    "customer_since",
    "pre-sales",
    "post-sales",
)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def test_customer_visible_texts_hold_no_internal_vocabulary(rendered: dict[str, str]) -> None:
    visible = {n: t for n, t in rendered.items() if n.startswith(("projects/", "bot/projects/"))}
    assert len(visible) > 40
    found = []
    for name, text in visible.items():
        shown = _COMMENT.sub("", text)  # hidden comments (bot markers) are not displayed
        for word in INTERNAL_WORDS:
            flags = 0 if word.isupper() else re.IGNORECASE
            if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w])", shown, flags):
                found.append(f"{name}: {word!r}")
    assert not found, "\n".join(found)


#: Promises the team does not keep, and the team's own measures: a customer-visible
#: text states only what is true for the customer (nobody follows every Support ticket;
#: time-to-value KPIs are how GitLab measures itself, not something the customer reads).
UNKEPT_OR_INTERNAL_PHRASES = (
    "follows every ticket",
    "never need to",
    "we will answer",
    "KPI",
    "time-to-value",
    "time to value",
    "one of our",
)
#: What only a new customer is told (handbook 003: the playbook for new customers).
NEW_CUSTOMER_ONLY = (
    "Welcome to GitLab",
    "first 45 days",
    "First value",
    "month 6",
    "Outcome achieved",
    "onboarding target",
    "Onboarding checklist",
    "during onboarding",
)


def _visible(rendered: dict[str, str]) -> dict[str, str]:
    return {
        n: _COMMENT.sub("", t)
        for n, t in rendered.items()
        if n.startswith(("projects/", "bot/projects/"))
    }


def test_customer_visible_texts_make_no_unkept_promise(rendered: dict[str, str]) -> None:
    found = [
        f"{name}: {phrase!r}"
        for name, text in _visible(rendered).items()
        for phrase in UNKEPT_OR_INTERNAL_PHRASES
        if phrase.lower() in text.lower()
    ]
    assert not found, "\n".join(found)


def test_an_existing_customer_is_not_told_it_is_new(rendered: dict[str, str]) -> None:
    existing = {n: t for n, t in _visible(rendered).items() if "-existing/" in n}
    assert len(existing) >= 4 * 4  # every segment: README, instructions, an issue, milestones
    found = [
        f"{name}: {phrase!r}"
        for name, text in existing.items()
        for phrase in NEW_CUSTOMER_ONLY
        if phrase.lower() in text.lower()
    ]
    assert not found, "\n".join(found)


def test_team_members_are_profile_links_that_notify_nobody(rendered: dict[str, str]) -> None:
    """A customer-visible text is rewritten when the team changes: an @mention would
    notify on every rewrite, a link to the profile notifies nobody."""
    visible = _visible(rendered)
    mentions = [n for n, t in visible.items() if re.search(r"(?<![\w`])@[A-Za-z0-9_]", t)]
    assert not mentions
    readme = visible["projects/enterprise/strategic-post-sales/files/README.md"]
    assert "| Customer Success Manager | [alice](https://gitlab.example.com/alice) |" in readme
