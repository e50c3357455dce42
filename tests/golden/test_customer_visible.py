"""Nothing about internal process in a customer-visible text (SPEC 1, issue 9 item 12):
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
