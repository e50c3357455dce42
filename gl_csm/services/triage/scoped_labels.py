"""Scoped-label conflicts on GitLab Free (SPEC 7.1).

Scoped labels (``key::value``) are mutually exclusive only with Premium
(``ee/app/services/ee/issuable_base_service.rb``, ``filter_mutually_exclusive_labels``):
on Free a person adding ``sentiment::red`` next to ``sentiment::green`` leaves both,
and the bot would read whichever it looks at first. On Free the bot resolves it as
Premium would have: the label a person added last wins (the issue's resource label
events, ``GET /projects/:id/issues/:iid/resource_label_events``, doc/api/
resource_label_events.md; one read, only for an issue with a conflict) and the bot
removes the others. On Premium GitLab does it itself and nothing is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gl_csm.gitlab.gateway import Gateway, enc
from gl_csm.plan import Plan, Results


def conflicts(labels: Iterable[str]) -> dict[str, list[str]]:
    """Scopes holding more than one label (the scope is what is before the last ``::``)."""
    by_scope: dict[str, list[str]] = {}
    for name in labels:
        if "::" in name:
            by_scope.setdefault(name.rsplit("::", 1)[0], []).append(name)
    return {scope: names for scope, names in by_scope.items() if len(names) > 1}


def last_added(events: Iterable[Mapping[str, Any]], candidates: list[str]) -> str:
    """The candidate whose latest ``add`` event is the newest; without events the last
    one GitLab lists (the newest label link)."""
    best: tuple[str, int] | None = None
    winner = candidates[-1]
    for event in events:
        name = (event.get("label") or {}).get("name")
        if event.get("action") != "add" or name not in candidates:
            continue
        key = (str(event.get("created_at") or ""), int(event.get("id") or 0))
        if best is None or key > best:
            best, winner = key, name
    return winner


def resolve(
    plan: Plan,
    gateway: Gateway,
    project: str,
    issue: dict,
    account: str,
    what: str,
    only: Iterable[str] | None = None,
) -> dict:
    """Plan removing the losing labels of every conflicted scope of ``issue`` (of the
    scopes ``only`` names, when given); returns the issue as it will be (the labels the
    bot reads)."""
    scopes = conflicts(issue.get("labels") or [])
    if only is not None:
        wanted = set(only)
        scopes = {scope: names for scope, names in scopes.items() if scope in wanted}
    if not scopes:
        return issue
    iid = issue["iid"]
    events = gateway.list(
        f"/projects/{enc(project)}/issues/{iid}/resource_label_events",
        f"list label events of {project}#{iid}",
    )
    losers: list[str] = []
    kept: list[str] = []
    for names in scopes.values():
        winner = last_added(events, names)
        kept.append(winner)
        losers += [n for n in names if n != winner]
    remove = ",".join(losers)

    def run(gw: Gateway, _r: Results) -> dict:
        return gw.update_issue(project, iid, remove_labels=remove)

    plan.add(
        "update-issue",
        f"{project}#{iid} ({what})",
        f"remove {', '.join(losers)}: GitLab Free keeps every label of a scope; the one a "
        f"person added last wins ({', '.join(kept)})",
        run,
        account=account,
    )
    labels = [n for n in issue.get("labels") or [] if n not in losers]
    return {**issue, "labels": labels}
