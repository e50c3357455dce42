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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from typing import Any

from gl_csm.config import Settings
from gl_csm.domain.account import Account
from gl_csm.errors import GlCsmError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan
from gl_csm.services.collaboration import project_state as collab
from gl_csm.templates import ROLES, manifest_for

#: Key of the tracking card's hidden data: the team the project's texts name.
TEAM_KEY = "team"


def team_record(account: Account) -> str:
    """The registry's team as one string (``csm=alice,sa=bob,ae=carol``)."""
    return ",".join(
        f"{role}={getattr(account.team, role)}" for role in ROLES if getattr(account.team, role)
    )


def plan_team_parts(
    plan: Plan,
    gateway: Gateway,
    settings: Settings,
    account: Account,
    project: dict,
    today: date,
) -> list[str]:
    """Rewrite the team parts of ``project`` that do not name ``account``'s team (the
    phase passages are promote's and verify's); returns what is rewritten: file paths,
    and 'the issue "TITLE"' for issues. Reads the project's open issues (one listing:
    a closed preloaded issue is history) and each file with a team part."""
    groups, _ = settings.require_layout("collaboration")
    manifest = manifest_for(collab.manifests_for(settings), account.segment)
    actual = collab.Actual(project=project)
    actual.issues = gateway.issues(project["id"], state="opened")
    phase = collab.phase_of(manifest, account, groups, project["namespace"]["full_path"])
    variant = collab.variant_of_project(
        manifest, account, actual, today, collab.window_days(settings, account)
    )
    desired = collab.desired_state(
        manifest,
        account,
        settings,
        today,
        phase=phase,
        path=project["path_with_namespace"],
        web_url=project["web_url"],
        variant=variant,
    )
    # The template's files: one a person deleted reads as absent, so it has no part.
    actual.files = set(desired.files)
    drift: list[collab.Drift] = []
    collab.plan_bot_sections(plan, gateway, desired, actual, drift, phase=False)
    return [
        d.item if d.item in desired.files else f'the issue "{d.item}"'
        for d in drift
        if d.kind == "team"
    ]


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
    the rewrite planned when the registry's team differs from the recorded one. A card
    without a record (made before this record existed, or new) records the team and
    rewrites nothing: onboard made the project's texts with the team of its day, and
    `verify` reports any difference."""
    now = team_record(account)
    before = previous.get(TEAM_KEY)
    if before is None or before == now or not account.project:
        return {TEAM_KEY: now}
    from gl_csm.services import lookup

    try:
        project = lookup.find_project(gateway, settings, account, "triage")
        if project is not None:
            plan_team_parts(plan, gateway, settings, account, project, today)
    except GlCsmError as exc:
        # Keep the old record: the next run tries again once the cause is fixed.
        plan.notes.append(
            f"warning: {account.slug}: the team changed in the registry, but the "
            f"collaboration project's team passages could not be checked: {exc}"
        )
        return {TEAM_KEY: str(before)}
    return {TEAM_KEY: now}
