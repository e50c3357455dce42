"""What the customer reads names the registry's team (SPEC 5: "The bot's parts of
customer-visible files (team table, phase passages) follow the registry: a team change,
a handoff or a promote rewrites them in one commit").

Who notices a team change in the registry: the daily triage. The account's tracking card
records, in its hidden data, the team the collaboration project was last made to name
(:data:`TEAM_KEY`). When the registry's team differs from that record, triage reads the
project (the project, its open issues, each file with a team part) and rewrites the
team parts that differ (project_state.plan_bot_sections, team parts only: files in one
commit, open preloaded issues one update each); then the card records the new team. A
rerun, or any day the team did not change, compares two strings and reads nothing
(README "Read budget"). `handoff` rewrites the parts itself (it changes the team) and
`verify` reports parts that differ (`--fix` rewrites them), for a project whose card
is missing or was edited by hand.

The phase passages ("Where we are" in the README) follow the account the same way
(SPEC 5: "The bot's parts of customer-visible files (team table, phase passages) follow
the registry"): the card records what the passage says in a few facts
(:data:`PASSAGE_KEY`: evaluation, onboarding until when, or past onboarding with the
success plan, the next business review and the renewal); when those facts change
(the onboarding window ends, the renewal moves), triage reads the project and rewrites
the passages whose text differs, in the same one commit as any team part.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from gl_csm.config import Settings
from gl_csm.domain.account import Account
from gl_csm.errors import GlCsmError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan
from gl_csm.services.collaboration import project_state as collab
from gl_csm.templates import ACCESS_LEVELS, ROLES, manifest_for

#: Key of the tracking card's hidden data: the team the project's texts name.
TEAM_KEY = "team"
#: Key of the tracking card's hidden data: what the project's phase passages say.
PASSAGE_KEY = "passage"


def team_record(account: Account) -> str:
    """The registry's team as one string (``csm=alice,sa=bob,ae=carol``)."""
    return ",".join(
        f"{role}={getattr(account.team, role)}" for role in ROLES if getattr(account.team, role)
    )


def passage_record(settings: Settings, account: Account, today: date) -> str:
    """What the project's phase passages say about ``account`` on ``today``, as the
    facts they are rendered from (project_state.desired_state): a change of this
    string is a change of the passage. Dates a pre-sales passage counts from the day
    it is rendered are left out (promote replaces that passage)."""
    if account.pre_sales:
        return "evaluation"
    window = collab.window_days(settings, account)
    if collab.customer_variant(account, today, window) == "new":
        since = account.customer_since
        return "onboarding" + (f" until {since + timedelta(days=window)}" if since else "")
    success_plan = account.success_plan
    objectives = getattr(success_plan, "objectives", None) if success_plan is not None else None
    return (
        f"onboarded; objectives {objectives or 0}; "
        f"next EBR {collab.next_ebr(account, settings, today)}; renewal {account.renewal_date}"
    )


def plan_team_parts(
    plan: Plan,
    gateway: Gateway,
    settings: Settings,
    account: Account,
    project: dict,
    today: date,
    *,
    passages: bool = False,
) -> list[str]:
    """Rewrite the team parts of ``project`` that do not name ``account``'s team (and,
    with ``passages``, the phase passages of a post-sales project that no longer say
    where the account stands; a change of phase is promote's and verify's); returns
    what is rewritten: file paths, and 'the issue "TITLE"' for issues. Reads the
    project's open issues (one listing: a closed preloaded issue is history) and each
    file with a team or phase part."""
    groups, _ = settings.require_layout("collaboration")
    manifest = manifest_for(collab.manifests_for(settings), account.segment)
    actual = collab.Actual(project=project)
    actual.issues = gateway.issues(project["id"], state="opened")
    phase = collab.phase_of(manifest, account, groups, project["namespace"]["full_path"])
    desired = collab.desired_for(
        manifest,
        account,
        settings,
        today,
        actual,
        phase=phase,
        path=project["path_with_namespace"],
        web_url=project["web_url"],
    )
    # The template's files: one a person deleted reads as absent, so it has no part.
    actual.files = set(desired.files)
    drift: list[collab.Drift] = []
    collab.plan_bot_sections(plan, gateway, desired, actual, drift, phase=False, passages=passages)
    return list(
        dict.fromkeys(
            d.item if d.item in desired.files else f'the issue "{d.item}"'
            for d in drift
            if d.kind in ("team", "file")
        )
    )


def plan_team_members(
    plan: Plan, gateway: Gateway, settings: Settings, account: Account, project: dict
) -> list[str]:
    """Add the registry team's people the project lacks, each with their role's access
    level of the project's phase (the template's ``members:``, as onboard does: SPEC 5
    Onboard "members by role"); one whose level, direct or inherited, is lower is
    raised. Nobody is removed or lowered (a person leaving is a person's step: the
    handoff checklist). Reads the project's members (one listing, inherited ones
    included: doc/api/members.md ``/members/all``) and one user per person to add.
    Returns the usernames added or raised."""
    groups, _ = settings.require_layout("collaboration")
    manifest = manifest_for(collab.manifests_for(settings), account.segment)
    phase = collab.phase_of(manifest, account, groups, project["namespace"]["full_path"])
    wanted: dict[str, tuple[str, int, str]] = {}
    for spec in manifest.members_for(phase):
        username = getattr(account.team, spec.role, None)
        if username and spec.access_level > wanted.get(username, ("", 0, ""))[1]:
            wanted[username] = (spec.role, spec.access_level, spec.access)
    effective: dict[str, int] = {}
    for m in gateway.members(project["id"], inherited=True):
        effective[m["username"]] = max(effective.get(m["username"], 0), int(m["access_level"]))
    missing = {u: w for u, w in wanted.items() if effective.get(u, 0) < w[1]}
    if not missing:
        return []
    # Resolved now, so an unknown username stops the plan before anything is written.
    users = collab.Users(gateway, account, None)
    users.resolve(missing)
    pid, full = project["id"], project["path_with_namespace"]
    for username, (role, level, name) in missing.items():
        detail = f"{username} ({role}, {phase}) as {name}: the registry's team"
        if effective.get(username):
            names = {v: k for k, v in ACCESS_LEVELS.items()}
            detail += f" (now {names.get(effective[username], effective[username])})"
        user_id = users.id(username)
        plan.add(
            "add-member",
            full,
            detail,
            lambda gw, _r, u=user_id, lv=level: gw.add_member(pid, u, lv),
            account=account.slug,
            customer_visible=True,
        )
    return list(missing)


def with_csm(account: Account, csm: str) -> Account:
    """``account`` as it is once ``csm`` is its CSM (handoff plans before the registry
    edit)."""
    return dataclasses.replace(account, team=dataclasses.replace(account.team, csm=csm))


def in_triage(
    plan: Plan,
    gateway: Gateway,
    settings: Settings,
    account: Account,
    today: date,
    previous: Mapping[str, Any],
) -> dict[str, str]:
    """The triage run's part (see module docstring): the hidden data to record, and
    the rewrite planned when the registry's team, or what the phase passages say,
    differs from the recorded one. A card without a record (made before this record
    existed, or new) records and rewrites nothing: onboard made the project's texts
    with the account of its day, and `verify` reports a team or phase difference."""
    now = {TEAM_KEY: team_record(account), PASSAGE_KEY: passage_record(settings, account, today)}
    before = {key: previous.get(key) for key in now}
    moved = [key for key in now if before[key] is not None and before[key] != now[key]]
    if not moved or not account.project:
        return now
    from gl_csm.services import lookup

    try:
        project = lookup.find_project(gateway, settings, account, "triage")
        if project is not None:
            if TEAM_KEY in moved:
                plan_team_members(plan, gateway, settings, account, project)
            plan_team_parts(
                plan, gateway, settings, account, project, today, passages=PASSAGE_KEY in moved
            )
    except GlCsmError as exc:
        # Keep the old records: the next run tries again once the cause is fixed.
        plan.notes.append(
            f"warning: {account.slug}: the {_what(moved)} changed, but the collaboration "
            f"project's passages could not be checked: {exc}"
        )
        return {key: str(before[key]) if key in moved else now[key] for key in now}
    return now


def _what(moved: list[str]) -> str:
    words = {TEAM_KEY: "team in the registry", PASSAGE_KEY: "account's standing"}
    return " and the ".join(words[k] for k in moved)
