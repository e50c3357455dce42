"""`gl-csm handoff ACCOUNT NEW_CSM` (SPEC 5 Handoff): move an account to another CSM.

Handbook 003 (account handoff): CSMs occasionally transfer accounts to another CSM (a
territory change, a Sales realignment, books of business to equalize) and walk through
checkpoints so the new CSM has what they need. Plan, then apply (ARCHITECTURE rule 2):

* **project membership**: the new CSM gets the CSM's access level of the project's
  phase (the template's ``members:``, SPEC 5 Onboard: pre-sales reporter, post-sales
  owner). The bot never deletes (ARCHITECTURE rule 3): the previous CSM stays a
  member, and the checklist asks a person to remove them;
* **assignees of open bot issues** of the account, found by their markers in one
  listing per internal project (tracking, reminder and disengage issues in
  ``projects.accounts``, triage and escalation issues): the previous CSM is replaced
  by the new one, other assignees are kept; an issue a person already reassigned
  (previous CSM not on it) is left alone;
* **a handoff checklist issue** in ``projects.accounts``, marker
  ``gl-csm:handoff:<slug>/<new csm>``, with handbook 003's checkpoints: on Premium
  assigned to both CSMs, on Free (one assignee) to the new CSM, the previous CSM
  mentioned since the handoff call and the introduction are theirs; created once,
  never edited (people tick its boxes);
* **the registry**: ``team.csm`` rewritten in the account file, last, so a run that
  fails part-way leaves the account with its previous CSM and a rerun finishes it.

An unknown NEW_CSM is an error (exit 2) before anything is planned. When the registry
already names NEW_CSM there is nothing to do (and a finished handoff's rerun reads
nothing and writes nothing). The tracking issue's card shows the new CSM from the
next `gl-csm triage` run, which renders it with everything triage knows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from gl_csm import markers
from gl_csm.config import Groups, Settings
from gl_csm.domain.account import Account
from gl_csm.errors import UsageError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan, Results
from gl_csm.registry_writeback import (
    RegistryEditError,
    with_csm,
    write_csm,
    write_project_path,
)
from gl_csm.services import lookup
from gl_csm.services.collaboration import project_state as collab
from gl_csm.services.collaboration import team_sync
from gl_csm.services.guards import require_internal_projects
from gl_csm.services.tracking import (
    UserIds,
    issue_link,
    plan_record_in_card,
    render_template,
)
from gl_csm.templates import (
    ACCESS_LEVELS,
    Trusted,
    inline,
    manifest_for,
    mention,
    safe_title,
)

KIND = "handoff"
TEMPLATE = "handoff_checklist.md.j2"
_USERNAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
#: Bot issue kinds of an account whose assignees follow the CSM, by where they live.
#: Reminder keys are "<slug>:<due>"; the others are the slug itself.
_ACCOUNT_KINDS = ("tracking", "reminder", "disengage")
_TRIAGE_KIND, _ESCALATION_KIND = "triage", "escalation"


def key_name(username: str) -> str:
    """A username as a marker key part (keys allow [a-z0-9._/:-]), as triage does."""
    return username.lower().replace("_", ".")


def checklist_token(slug: str, new_csm: str) -> str:
    return markers.token(KIND, f"{slug}/{key_name(new_csm)}")


@dataclass(frozen=True)
class BotIssue:
    """An open bot issue of the account and the internal project it lives in."""

    project: str
    role: str  # tracking | reminder | disengage | triage | escalation
    issue: dict[str, Any]

    @property
    def ref(self) -> str:
        return f"{self.project}#{self.issue['iid']}"


# ---------------------------------------------------------------- plan


def plan_handoff(
    gateway: Gateway, settings: Settings, slug: str, new_csm: str, today: date
) -> Plan:
    """The plan of a handoff of account ``slug`` to ``new_csm`` (see module docstring)."""
    groups, projects = settings.require_layout("handoff")
    if not _USERNAME.match(new_csm):
        raise UsageError(f"NEW_CSM {new_csm!r} is not a GitLab username")
    account = collab.load_account(settings, slug)
    old_csm = account.team.csm
    plan = Plan()
    if old_csm == new_csm:
        plan.notes.append(
            f"{slug}: {new_csm} is already its CSM (team.csm in {account.source}); nothing to do"
        )
        return plan
    registry_text = _validated_registry_edit(account, new_csm)
    # SPEC 1: every project written here must be internal (nothing written otherwise).
    require_internal_projects(gateway, projects)
    user = gateway.user(new_csm)
    if user is None:
        raise UsageError(
            f"account {slug}: NEW_CSM {new_csm!r} is not a GitLab user at {gateway.url}; "
            f"check the username (nothing was written)"
        )
    users = UserIds({new_csm: int(user["id"])})
    _require_reader(gateway, projects.accounts, slug, new_csm, user)

    project, access = _plan_membership(plan, gateway, settings, account, groups, new_csm, users)
    # What the customer reads names the new CSM (SPEC 5: the bot's parts follow the team).
    team_parts = (
        team_sync.plan_team_parts(
            plan, gateway, settings, team_sync.with_csm(account, new_csm), project, today
        )
        if project is not None
        else None
    )
    # Without GitLab's search (SPEC 7.1): the tracking issue through its hints, the
    # account's other bot issues through the iids its card records (services/lookup.py).
    tracking = lookup.find_tracking(gateway, settings, account)
    bot_issues = _open_bot_issues(gateway, settings, account, tracking)
    _plan_assignees(plan, bot_issues, slug, old_csm, new_csm, users, settings.premium)
    existing = lookup.find_recorded(
        gateway,
        projects.accounts,
        tracking,
        "accounts",
        KIND,
        f"{slug}/{key_name(new_csm)}",
        narrow=[{"assignee_username": new_csm}],
    )
    if existing is None:
        _plan_checklist(
            plan, settings, account, new_csm, project, access, bot_issues, users, team_parts
        )
        plan_record_in_card(
            plan, projects.accounts, tracking, f"{KIND}:{slug}", slug, "handoff checklist"
        )
    if project is not None and account.source and account.project != project["path_with_namespace"]:
        moved = project["path_with_namespace"]
        plan.add(
            "update-registry",
            account.source,
            f"project: {moved} (the project moved from {account.project or '(unset)'})",
            lambda _gw, _r: write_project_path(account.source, moved),
            account=slug,
        )
    if registry_text is not None:
        plan.add(
            "update-registry",
            account.source,
            f"team.csm: {old_csm or '(none)'} -> {new_csm}",
            lambda _gw, _r: write_csm(account.source, new_csm),
            account=slug,
        )
    return plan


def _require_reader(gateway: Gateway, accounts: str, slug: str, new_csm: str, user: dict) -> None:
    """The new CSM must be able to read the accounts project, where the tracking issue
    and the checklist assigned to them live: GitLab drops an assignee who cannot read
    the project without an error (app/services/issuable_base_service.rb), which would
    leave the previous CSM assigned. Who can read (doc/user/permissions.md): members,
    direct or inherited, and on an internal project every user but external ones."""
    project = gateway.project(accounts)
    if project is None:
        return  # the internal-project guard already named a missing project
    if project.get("visibility") in ("internal", "public") and not user.get("external"):
        return
    if gateway.member(project["id"], int(user["id"]), inherited=True) is not None:
        return
    raise UsageError(
        f"account {slug}: NEW_CSM {new_csm!r} cannot read {accounts} (not a member of the "
        f"{project.get('visibility')} project nor of its groups), so GitLab would not assign "
        f"them the account's issues; add {new_csm} to {accounts} (Reporter or more) and run "
        f"the command again (nothing was written)"
    )


def _validated_registry_edit(account: Account, new_csm: str) -> str | None:
    """The edited registry text, computed now so a file the bot cannot edit stops the
    run before anything is written (a dry run validates what apply would)."""
    if not account.source:
        return None
    try:
        with open(account.source, encoding="utf-8") as handle:
            return with_csm(handle.read(), new_csm)
    except OSError as exc:
        raise UsageError(f"{account.source}: cannot read the registry file: {exc}") from None
    except RegistryEditError as exc:
        raise RegistryEditError(
            f"{account.source}: cannot set team.csm to {new_csm!r}: {exc}; edit team.csm by "
            f"hand and run the command again (nothing was written)"
        ) from None


def _plan_membership(
    plan: Plan,
    gateway: Gateway,
    settings: Settings,
    account: Account,
    groups: Groups,
    new_csm: str,
    users: UserIds,
) -> tuple[dict | None, str]:
    """The new CSM gets the CSM's level of the project's phase (never lowered, and the
    previous CSM is never removed). Returns the project (None when not onboarded yet)
    and the level's name."""
    manifest = manifest_for(collab.manifests_for(settings), account.segment)
    path = collab.project_path(manifest, account, groups)
    # Wherever it moved (a transfer whose registry write-back was never committed).
    project = lookup.find_project(gateway, settings, account, "handoff")
    if project is None:
        plan.notes.append(
            f"{account.slug}: no collaboration project at {path} yet; `gl-csm onboard "
            f"{account.slug}` adds the CSM as a member"
        )
        return None, "not onboarded yet"
    phase = collab.phase_of(manifest, account, groups, project["namespace"]["full_path"])
    wanted = [m for m in manifest.members_for(phase) if m.role == "csm"]
    if not wanted:
        return project, "no CSM access in this phase"
    level, name = wanted[0].access_level, wanted[0].access
    effective = _effective_levels(gateway.members(project["id"], inherited=True))
    have = effective.get(new_csm, 0)
    if have >= level:
        return project, name
    pid, full = project["id"], project["path_with_namespace"]
    detail = f"{new_csm} (new CSM, {phase}) as {name}"
    if have:
        detail += f" (now {_level_name(have)})"

    def add(gw: Gateway, _r: Results) -> dict:
        return gw.add_member(pid, users.ids(gw, [new_csm])[0], level)

    plan.add("add-member", full, detail, add, account=account.slug, customer_visible=True)
    return project, name


def _effective_levels(members: Iterable[dict]) -> dict[str, int]:
    """Highest access level by username (``/members/all`` lists direct and inherited)."""
    out: dict[str, int] = {}
    for m in members:
        level = int(m["access_level"])
        if level > out.get(m["username"], 0):
            out[m["username"]] = level
    return out


def _level_name(level: int) -> str:
    from gl_csm.templates import ACCESS_LEVELS

    names = {v: k for k, v in ACCESS_LEVELS.items()}
    return names.get(level, f"access level {level}")


def _open_bot_issues(
    gateway: Gateway, settings: Settings, account: Account, tracking: dict | None
) -> list[BotIssue]:
    """The account's open bot issues, by marker. Those whose assignee changes are
    exactly the open issues assigned to the previous CSM: one listing filtered by
    assignee per internal project (a database filter, not GitLab's search), about a
    page each (one CSM's book). Without a previous CSM, the iids the tracking card
    records (one ``iids[]`` listing per project)."""
    _, projects = settings.require_layout("handoff")
    slug, old_csm = account.slug, account.team.csm
    recorded = lookup.recorded_iids(tracking)
    found: list[BotIssue] = []
    for project, role, kinds in (
        (projects.accounts, "accounts", _ACCOUNT_KINDS),
        (projects.triage, "triage", (_TRIAGE_KIND,)),
        (projects.escalations, "escalations", (_ESCALATION_KIND,)),
    ):
        if old_csm:
            listed = gateway.issues(project, state="opened", assignee_username=old_csm)
        else:
            listed = gateway.issues_by_iid(project, recorded[role], state="opened")
            if role == "accounts" and tracking is not None and tracking.get("state") == "opened":
                listed.append(tracking)
        found += [
            BotIssue(project, kind, i)
            for i in _oldest_first(listed)
            for kind in kinds
            if _belongs(i, kind, slug)
        ]
    return found


def _oldest_first(issues: list[dict]) -> list[dict]:
    return sorted(issues, key=lambda i: i.get("id") or 0)


def _belongs(issue: dict, kind: str, slug: str) -> bool:
    """Whether ``issue`` carries a marker of ``kind`` for this account (exact slug: the
    marker of ``acme-corp-labs`` is not one of ``acme-corp``)."""
    for found_kind, key in markers.markers_in(issue.get("description")):
        if found_kind != kind:
            continue
        if key == slug or (kind == "reminder" and key.startswith(f"{slug}:")):
            return True
    return False


def _plan_assignees(
    plan: Plan,
    bot_issues: list[BotIssue],
    slug: str,
    old_csm: str | None,
    new_csm: str,
    users: UserIds,
    premium: bool = False,
) -> None:
    """Previous CSM -> new CSM on every open bot issue assigned to the previous CSM;
    on Premium the other assignees stay, in their order; on Free an issue has one
    assignee (``Issue#allows_multiple_assignees?`` is a Premium feature), the CSM."""
    if not old_csm:
        return
    for bot in bot_issues:
        assignees = bot.issue.get("assignees") or []
        names = [a.get("username") for a in assignees]
        if old_csm not in names:
            continue
        kept = [int(a["id"]) for a in assignees if a.get("username") not in (old_csm, new_csm)]
        others = [n for n in names if n not in (old_csm, new_csm)]
        if not premium:
            kept, others = [], []
        detail = f"{bot.role} issue: assignee {old_csm} -> {new_csm}"
        if others:
            detail += f" (kept: {', '.join(str(n) for n in others)})"

        def swap(gw: Gateway, _r: Results, b: BotIssue = bot, ids: list[int] = kept) -> dict:
            new_ids = ids + users.ids(gw, [new_csm])
            return gw.update_issue(b.project, b.issue["iid"], assignee_ids=new_ids)

        plan.add("update-issue", bot.ref, detail, swap, account=slug)


def _plan_checklist(
    plan: Plan,
    settings: Settings,
    account: Account,
    new_csm: str,
    project: dict | None,
    access: str,
    bot_issues: list[BotIssue],
    users: UserIds,
    team_parts: list[str] | None = None,
) -> None:
    """The handoff checklist issue (handbook 003 checkpoints): on Premium assigned to
    both CSMs, on Free to the new CSM with the previous one mentioned."""
    _, projects = settings.require_layout("handoff")
    slug = account.slug
    old_csm = account.team.csm
    title = safe_title(f"Account handoff: {account.name} to {new_csm}")
    tracking = next((b.issue for b in bot_issues if b.role == "tracking"), None)
    others = [b for b in bot_issues if b.role != "tracking"]
    context = {
        "marker": Trusted(markers.marker(KIND, f"{slug}/{key_name(new_csm)}")),
        "account": account,
        "old_csm": old_csm,
        # The previous CSM has checkpoints to do (the handoff call, the introduction):
        # on Free the checklist has one assignee, the new CSM, so the previous one is
        # told by a mention; on Premium both are assigned (assignment notifies).
        "old_csm_ref": old_csm if settings.premium or not old_csm else mention(old_csm),
        "new_csm": new_csm,
        "ae": account.team.ae,
        # Only what is true: membership only when a project exists.
        "access": access if project is not None and access in ACCESS_LEVELS else None,
        "project_exists": project is not None,
        # What the customer reads now names the new CSM (None: no project).
        "team_parts": team_parts,
        "tracking_exists": tracking is not None,
        "registry_file": Path(account.source).name if account.source else "-",
        "project_link": _project_link(project, account),
        "tracking_link": issue_link(tracking, "Tracking issue")
        if tracking
        else Trusted("Tracking issue: none yet"),
        "open_issues": [issue_link(b.issue, b.role.capitalize()) for b in others],
    }
    body = render_template(TEMPLATE, context)
    token = checklist_token(slug, new_csm)

    # On Free one assignee, the accountable person: the new CSM; the previous CSM is
    # named in the checklist. On Premium both are assigned.
    people = [new_csm, old_csm] if settings.premium else [new_csm]

    def create(gw: Gateway, _r: Results) -> dict:
        assignees = users.ids(gw, people)
        return gw.create_issue(projects.accounts, title, body, token, assignee_ids=assignees)

    both = " and ".join(p for p in people if p)
    plan.add(
        "create-issue",
        f"{projects.accounts} handoff checklist",
        f"{title!r}, assigned to {both}",
        create,
        key=f"{KIND}:{slug}",
        account=slug,
    )


def _project_link(project: dict | None, account: Account) -> Trusted:
    if project and project.get("web_url"):
        shown = inline(project.get("path_with_namespace") or "")
        return Trusted(f"[{shown}]({project['web_url']})")
    return Trusted(inline(account.project) if account.project else "none yet (not onboarded)")
