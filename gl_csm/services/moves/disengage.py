"""`gl-csm disengage ACCOUNT [--reason TEXT]` (SPEC 5 Disengage): a disengagement
checklist issue in ``projects.accounts``, assigned to the account's CSM.

Handbook 001 (disengaging with a customer): manage the disengagement so the customer
understands the reason and knows who to talk to going forward: have the conversation
face to face with the SAL/AE, be honest about the reason, go over the options for
assistance going forward (Support, the account team in writing, documentation and the
community forum; handbook 003: the digital programs), and send a follow-up summary.

The issue carries the marker ``gl-csm:disengage:<slug>`` and is found by it even when
people retitled or closed it, so a rerun writes nothing (one per account). The reason
comes from a person: the templates neutralise it (no quick action, mention or marker
takes effect, ARCHITECTURE rule 5). An unknown CSM user is an error before anything
is written.
"""

from __future__ import annotations

from datetime import date

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.domain.account import Account
from gl_csm.errors import UsageError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan, Results
from gl_csm.services import lookup
from gl_csm.services.collaboration import project_state as collab
from gl_csm.services.guards import require_internal_projects
from gl_csm.services.tracking import issue_link, plan_record_in_card, render_template
from gl_csm.templates import Trusted, inline, mention, safe_title

KIND = "disengage"
TEMPLATE = "disengage_checklist.md.j2"
#: Lifecycle stages in which the customer is downgrading or leaving (SPEC 2).
_CHURN = ("will-churn", "churned")


def plan_disengage(
    gateway: Gateway, settings: Settings, slug: str, today: date, reason: str | None = None
) -> Plan:
    """The plan of `gl-csm disengage` (see module docstring). ``today`` is unused by the
    checklist itself; it keeps the signature of the other services."""
    _, projects = settings.require_layout("disengage")
    account = collab.load_account(settings, slug)
    # SPEC 1 and README "Running against GitLab": a writing command refuses to run while
    # any internal project is public, not only the one it writes to.
    accounts_project = require_internal_projects(gateway, projects)["accounts"]
    plan = Plan()
    token = markers.token(KIND, slug)
    # Without GitLab's search (SPEC 7.1): the iid the tracking card records, else the
    # marker over the whole accounts project before a create (services/lookup.py).
    tracking = lookup.find_tracking(gateway, settings, account)
    narrow = [{"assignee_username": account.team.csm}] if account.team.csm else []
    existing = lookup.find_recorded(
        gateway, projects.accounts, tracking, "accounts", KIND, slug, narrow=narrow
    )
    if existing is not None:
        plan.notes.append(
            f"{slug}: disengagement checklist {projects.accounts}#{existing['iid']} exists "
            f"({existing.get('state')}); nothing to do"
        )
        return plan
    csm = account.team.csm
    csm_id = _user_id(gateway, slug, csm) if csm else None
    if csm is None:
        plan.notes.append(f"{slug}: team.csm is not set; the checklist is not assigned")
    context = {
        "marker": Trusted(markers.marker(KIND, slug)),
        "account": account,
        "csm": csm or "-",
        "ae": account.team.ae or "-",
        # handbook 001: the SAL/AE joins the conversation and keeps the relationship,
        # so the checklist tells them (a mention), not only names them.
        "ae_mention": mention(account.team.ae),
        "reason": (reason or "").strip() or None,
        "churn": account.lifecycle in _CHURN or account.risk.contraction,
        "project_link": _project_link(accounts_project, account),
        "tracking_link": issue_link(tracking, "Tracking issue"),
    }
    body = render_template(TEMPLATE, context)
    title = safe_title(f"Disengagement: {account.name}")

    def create(gw: Gateway, _r: Results) -> dict:
        fields = {"assignee_ids": [csm_id]} if csm_id is not None else {}
        return gw.create_issue(projects.accounts, title, body, token, **fields)

    assigned = f", assigned to {csm}" if csm else ""
    plan.add(
        "create-issue",
        f"{projects.accounts} disengagement checklist",
        f"{title!r}{assigned}",
        create,
        key=f"{KIND}:{slug}",
        account=slug,
    )
    plan_record_in_card(plan, projects.accounts, tracking, f"{KIND}:{slug}", slug, "checklist")
    return plan


def _user_id(gateway: Gateway, slug: str, username: str) -> int:
    user = gateway.user(username)
    if user is None:
        raise UsageError(
            f"account {slug}: team.csm {username!r} is not a GitLab user at {gateway.url}; "
            f"fix the username in the registry file (nothing was written)"
        )
    return int(user["id"])


def _project_link(accounts_project: dict, account: Account) -> Trusted:
    """The collaboration project as a link, from the registry (no read needed); its URL
    made from GitLab's web_url of the accounts project, not from the URL the bot uses."""
    if not account.project:
        return Trusted("none (not onboarded)")
    path = account.project.strip("/")
    return Trusted(f"[{inline(path)}]({lookup.web_url_of(accounts_project, path)})")
