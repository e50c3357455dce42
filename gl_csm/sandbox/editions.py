"""What the emulated GitLab's tier allows, and the switch that empties issue search.

GitLab Free (CE) lacks some Premium features the bot meets (ee/app/models/
gitlab_subscriptions/features.rb): ``multiple_issue_assignees`` (Free keeps the first
assignee, ``Issue#allows_multiple_assignees?``) and ``scoped_labels`` (on Free a
``key::value`` label is an ordinary label, not exclusive). ``free`` is the default:
the strictest. Ultimate includes everything Premium has.

``search`` is how issue search behaves: ``"fulltext"`` (default) as GitLab does for
Latin-script queries (fulltext.py); ``"ilike"`` the substring search GitLab used before
full-text issue search (``Issue.full_search``: every term of 3+ characters a
case-insensitive substring), kept for tests of code that still relies on it;
``"none"`` answers nothing (merge request search too): the worst a search index can
do (stale, or a query it cannot match), for tests that the bot never depends on it.
"""

from __future__ import annotations

EDITIONS = ("free", "premium", "ultimate")
SEARCH_MODES = ("fulltext", "ilike", "none")


def check(edition: str, search: str) -> None:
    if edition not in EDITIONS:
        raise ValueError(f"sandbox edition: expected one of {', '.join(EDITIONS)}, got {edition!r}")
    if search not in SEARCH_MODES:
        raise ValueError(
            f"sandbox search: expected one of {', '.join(SEARCH_MODES)}, got {search!r}"
        )


def is_paid(edition: str) -> bool:
    """Premium and Ultimate: several assignees, exclusive scoped labels."""
    return edition in ("premium", "ultimate")
