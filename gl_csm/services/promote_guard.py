"""Who may make the bot promote: ``action::promote`` makes the bot transfer a
collaboration project and change its members, which are a Maintainer's or an Owner's
acts, while anyone who may label an issue (Planner, Reporter) can add the label
(doc/user/permissions.md). So the bot acts only when the person who added the label
has at least ``rules.promote_min_access_level`` on the accounts project; otherwise it
takes the label back and says why on the issue.

Who added the label comes from GitLab's resource label events (doc/api/
resource_label_events.md: the last ``add`` of the label), never from the payload, which
only routes (a forged ``user`` in a payload decides nothing). Used by `react` and by the
scheduled triage's catch-up alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from gl_csm import markers
from gl_csm.gitlab.gateway import Gateway
from gl_csm.gitlab.paths import enc
from gl_csm.plan import Plan, Results
from gl_csm.templates import inline

KIND = "promote-refused"
LEVELS = {10: "Guest", 15: "Planner", 20: "Reporter", 30: "Developer", 40: "Maintainer"}
LEVELS |= {50: "Owner"}


def level_name(level: int | None) -> str:
    if level is None:
        return "no access"
    return LEVELS.get(level, f"access level {level}")


@dataclass(frozen=True)
class Adder:
    """Who added the label last, their access to the accounts project, and the event."""

    user_id: int | None
    username: str | None
    access: int | None
    event_id: int | None


def label_adder(gateway: Gateway, project: str, iid: int, label: str) -> Adder:
    """The person who last added ``label`` to the issue, and their effective access
    (inherited included) to ``project``; two reads."""
    events = gateway.list(
        f"/projects/{enc(project)}/issues/{iid}/resource_label_events",
        f"read the label events of {project}#{iid}",
    )
    added = [
        e
        for e in events
        if e.get("action") == "add" and (e.get("label") or {}).get("name") == label
    ]
    if not added:
        return Adder(None, None, None, None)
    last = max(added, key=lambda e: int(e.get("id") or 0))
    user = last.get("user") or {}
    user_id = user.get("id") if isinstance(user.get("id"), int) else None
    access = None if user_id is None else gateway.member_access("projects", project, user_id)
    return Adder(user_id, user.get("username"), access, last.get("id"))


def refusal(
    gateway: Gateway,
    project: str,
    iid: int,
    label: str,
    slug: str,
    min_level: int,
    *,
    acting: str = "promoting",
    rule: str = "promote_min_access_level",
    kind: str = "tracking",
) -> Plan | None:
    """None when the label's adder may promote; else the plan that takes the label
    back and tells them why (one note per label event, found again by its marker).
    Another trigger with a minimum (services/triggers.py) says what the label makes the
    bot do (``acting``), its rule and the kind of issue it is on."""
    adder = label_adder(gateway, project, iid, label)
    if adder.access is not None and adder.access >= min_level:
        return None
    who = inline(adder.username) if adder.username else "someone GitLab does not name"
    why = (
        f"{label} was added by {who}, who has {level_name(adder.access)} on {project}; "
        f"{acting} needs {level_name(min_level)} (rules.{rule})"
    )
    token = markers.token(KIND, f"{slug}:{adder.event_id or 0}")
    body = (
        f"{markers.marker(KIND, f'{slug}:{adder.event_id or 0}')}\n"
        f"The bot took `{label}` back without {acting}: {why}. A person with "
        f"{level_name(min_level)} access can add it again.\n"
    )
    plan = Plan()
    target = f"{project}#{iid} ({kind} issue of {slug})"
    plan.notes.append(f"{target}: not {'promoted' if acting == 'promoting' else 'acted on'}: {why}")

    def remove(gw: Gateway, _r: Results) -> dict:
        return gw.update_issue(project, iid, remove_labels=label)

    def note(gw: Gateway, _r: Results) -> dict:
        return gw.create_note(project, iid, body, token)

    plan.add("update-issue", target, f"remove {label} (not allowed: {why})", remove, account=slug)
    plan.add("create-note", target, f"say why {label} was taken back", note, account=slug)
    return plan
