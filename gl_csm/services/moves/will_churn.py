"""The will-churn checklist (SPEC 4 Lifecycle, handbook 002 "Will Churn").

Handbook 002: very rarely the account team and leadership accept that a customer will
contract or churn; before the account moves to the `will churn` lifecycle stage, four
steps must be completed. So the bot does not set ``lifecycle::will-churn`` when asked:

* asked by ``lifecycle: will-churn`` in the registry, by a person adding the
  ``lifecycle::will-churn`` label to the tracking issue (scheduled triage, or `gl-csm
  react` at once), or by ``gl-csm will-churn ACCOUNT``, it opens ONE checklist issue
  in ``projects.accounts`` with the four steps, assigned to the CSM, marker
  ``gl-csm:will-churn:<slug>`` (found by listing and marker, never by search: a rerun,
  even after a retitle or a close, writes nothing);
* the triage run reads the checklist's task list (the issue's description, from the
  listing it already makes) and sets ``lifecycle::will-churn`` on the tracking issue
  only once every box is ticked; until then the tracking issue keeps the lifecycle the
  account would have otherwise (a label a person added early is taken back), and the
  card lists the steps left.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.domain.account import Account
from gl_csm.domain.assessment import Assessment
from gl_csm.errors import UsageError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan, Results
from gl_csm.services.collaboration import project_state as collab
from gl_csm.services.guards import require_accounts_project
from gl_csm.services.tracking import UserIds, render_template, tracking_link
from gl_csm.templates import Trusted, mention, safe_title

KIND = "will-churn"
TEMPLATE = "will_churn_checklist.md.j2"
LABEL = "lifecycle::will-churn"
#: handbook 002 "Will Churn": the four steps, in its order (the task texts of the issue).
STEPS: tuple[str, ...] = (
    "All options discussed during the at-risk reviews have been exhausted",
    "The CSM discussed it with their manager and got agreement on moving to will churn",
    "The RM/AE marked the opportunity as Will Churn or Will Contract",
    "The CSM updated the Lifecycle Stage in Gainsight (C360 > Attributes > Lifecycle Stage) "
    "to Will Churn",
)
_TICKED = re.compile(r"^\s*[-*+] \[[xX]\] (.*?)\s*$")


#: Between a step's text and the person who acts on it ("... Will Contract — @carol").
OWNER_SEPARATOR = " — "


def steps_left(description: str | None) -> tuple[str, ...]:
    """The steps whose box is not ticked in the checklist's task list (a step whose
    text a person changed counts as not done: the four steps are the handbook's). A
    step may be followed by the person who acts on it (:data:`OWNER_SEPARATOR`)."""
    ticked = set()
    for line in (description or "").splitlines():
        found = _TICKED.match(line)
        if found:
            ticked.add(found.group(1).split(OWNER_SEPARATOR, 1)[0])
    return tuple(step for step in STEPS if step not in ticked)


def step_owners(account: Account, settings: Settings) -> tuple[Trusted, ...]:
    """Who acts on each step, mentioned so GitLab tells them (handbook 002 "Will
    Churn": the CSM's manager agrees to step 2, the RM/AE marks the opportunity in step
    3; the CSM is the assignee and does steps 1 and 4). Empty when nobody fills the
    role (an account without an AE, a region the config's people.regions lacks)."""
    region = settings.people.regions.get(account.region) if account.region else None
    manager = region.csm_manager if region else None
    owners = ("", mention(manager) if manager else "", mention(account.team.ae), "")
    return tuple(Trusted(OWNER_SEPARATOR + o if o else "") for o in owners)


@dataclass(frozen=True)
class WillChurn:
    """The account's will-churn state for the card and the tracking issue's labels."""

    checklist: Mapping[str, Any] | None  # None: planned in this run
    left: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.left


def requested(account: Account, tracking: Mapping[str, Any] | None, settings: Settings) -> bool:
    """SPEC 4: the registry says will-churn, or a person added the label."""
    label = settings.taxonomy.name(LABEL)
    return account.lifecycle == "will-churn" or label in ((tracking or {}).get("labels") or [])


def _lifecycle_without_will_churn(a: Assessment) -> str:
    """The lifecycle the account has while the checklist is not complete."""
    account = a.account
    if account.pre_sales:
        return "pre-sales"
    return "onboarding" if a.in_onboarding else "adopting"


def in_triage(
    plan: Plan,
    gateway: Gateway,
    settings: Settings,
    account: Account,
    a: Assessment,
    *,
    tracking: Mapping[str, Any] | None,
    checklist: Mapping[str, Any] | None,
    users: UserIds,
) -> tuple[Assessment, WillChurn | None]:
    """The triage run's part: open the checklist when asked and none exists; the
    assessment with the lifecycle the tracking issue shows (will-churn only once every
    box is ticked), and the state for the card (None when will-churn is not in play)."""
    if account.lifecycle == "churned":
        return a, None
    asked = requested(account, tracking, settings)
    if checklist is None and not asked:
        return a, None
    if checklist is None:
        why = _why(account, tracking, settings)
        plan_checklist(plan, settings, account, tracking=tracking, users=users, why=why)
        return replace(a, lifecycle=_lifecycle_without_will_churn(a)), WillChurn(None, STEPS)
    state = WillChurn(checklist, steps_left(checklist.get("description")))
    lifecycle = "will-churn" if state.complete else _lifecycle_without_will_churn(a)
    return replace(a, lifecycle=lifecycle), state


def _why(account: Account, tracking: Mapping[str, Any] | None, settings: Settings) -> str:
    if account.lifecycle == "will-churn":
        return f"`lifecycle: will-churn` in the registry ({account.slug}.yml)"
    if tracking is not None and settings.taxonomy.name(LABEL) in (tracking.get("labels") or []):
        return "a person added the `lifecycle::will-churn` label to the tracking issue"
    return "`gl-csm will-churn` was run"


def plan_checklist(
    plan: Plan,
    settings: Settings,
    account: Account,
    *,
    tracking: Mapping[str, Any] | None,
    users: UserIds,
    why: str,
) -> None:
    """Create the checklist issue, assigned to the CSM (result key ``will-churn:<slug>``)."""
    _, projects = settings.require_layout("will-churn")
    slug = account.slug
    csm = account.team.csm
    context = {
        "marker": Trusted(markers.marker(KIND, slug)),
        "account": account,
        "csm": mention(csm) or "(no CSM in the registry)",
        "ae": account.team.ae or "-",
        "why": Trusted(why),
        # (step, who acts on it): the people who must act are told (handbook 002).
        "steps": list(zip(STEPS, step_owners(account, settings), strict=True)),
    }
    title = safe_title(f"Will churn: {account.name}")
    token = markers.token(KIND, slug)

    def create(gw: Gateway, results: Results) -> dict:
        body = render_template(
            TEMPLATE, {**context, "tracking_link": tracking_link(tracking, slug, results)}
        )
        return gw.create_issue(projects.accounts, title, body, token, **users.assignees(gw, [csm]))

    assigned = f", assigned to {csm}" if csm else " (no CSM to assign)"
    plan.add(
        "create-issue",
        f"{projects.accounts} will-churn checklist",
        f"{title!r}{assigned}: handbook 002's four steps ({why})",
        create,
        key=f"{KIND}:{slug}",
        account=slug,
    )


def plan_will_churn(gateway: Gateway, settings: Settings, slug: str, today: date) -> Plan:
    """`gl-csm will-churn ACCOUNT`: open the account's checklist now (one per account)."""
    _, projects = settings.require_layout("will-churn")
    account = collab.load_account(settings, slug)
    require_accounts_project(gateway, settings, "will-churn")  # SPEC 1: never public
    plan = Plan()
    # One listing of the accounts project; the bot's issues are found by marker.
    issues = gateway.issues(projects.accounts, state="all")
    existing = markers.index_by_marker(issues, KIND).get(slug)
    if existing is not None:
        left = steps_left(existing.get("description"))
        state = (
            "every step is done: triage sets lifecycle::will-churn"
            if not left
            else f"{len(left)} of {len(STEPS)} steps left"
        )
        plan.notes.append(
            f"{slug}: will-churn checklist {projects.accounts}#{existing['iid']} exists "
            f"({existing.get('state')}; {state}); nothing to do"
        )
        return plan
    tracking = markers.index_by_marker(issues, "tracking").get(slug)
    if account.team.csm and gateway.user(account.team.csm) is None:
        raise UsageError(
            f"account {slug}: team.csm {account.team.csm!r} is not a GitLab user at "
            f"{gateway.url}; fix the username in the registry file (nothing was written)"
        )
    plan_checklist(
        plan,
        settings,
        account,
        tracking=tracking,
        users=UserIds(),
        why=_why(account, tracking, settings),
    )
    return plan
