"""`gl-csm promote ACCOUNT` (SPEC 5 Promote): the customer has paid.

handbook 001 "Where does a Customer Success Manager fit in?": once the customer has
paid, the project moves from the pre-sales group to the post-sales group, the CSM owns
it, and the account executive sets up the "Welcome to GitLab" call. So the plan is:

1. refuse when ``customer_since`` is not set (the customer has not paid);
2. transfer the project to ``groups.post_sales`` (``PUT /projects/:id/transfer``); a
   refusal from GitLab (name taken in the target, no permission) becomes a message
   naming the account, the project, GitLab's answer and what to do, and since the
   transfer is the first change nothing else is done: the project stays where it was;
3. members of the post-sales phase: the CSM becomes Owner;
4. the Welcome call issue is assigned to the AE with a due date of customer_since + 7
   days, or today + 7 days when that is already past (a late promote still gives the
   AE a week), and put in the Onboarding milestone; fields a person already set are
   left alone, and a closed Welcome call issue is not touched;
5. the post-sales milestones and issues of the template that are not there yet, and the
   phase passages of the README and the instructions (the bot's own sections, one
   commit; what people wrote around them stays);
6. the tracking issue: lifecycle onboarding, priority 1 for a new customer (from the
   assessment, SPEC 3);
7. the new project path written back to the registry file;
8. the template's pre-sales issues the bot made (``phase: pre-sales``, the proof of
   concept: found by marker, never by title) that are still open are closed with a
   note saying why: the customer decided, so the evaluation is over. Nothing is
   deleted (a person reopens one whose work goes on); a person's issues are left alone;
9. the template's pre-sales milestones the bot made (the Proof of concept milestone)
   are closed when every issue on them is closed (or closed by step 8): GitLab does not
   close a milestone by itself (doc/user/project/milestones: a milestone is closed by a
   person or the API, ``state_event=close``, doc/api/milestones.md). One that still
   holds an open issue (a person's) stays open, and the plan says why.

Each step compares with what GitLab has, so a rerun writes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.errors import GitLabError, UsageError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan, Results
from gl_csm.services import lookup
from gl_csm.services.collaboration import project_state as collab
from gl_csm.services.guards import require_accounts_project
from gl_csm.templates import manifest_for


def find_project(gateway: Gateway, settings: Settings, account: Any) -> dict:
    """The account's collaboration project, wherever it moved (services/lookup.py: the
    registry's ``project:`` through GitLab's redirect, else the account's path in the
    pre-sales and post-sales groups); a UsageError when there is none."""
    groups, _ = settings.require_layout("promote")
    project = lookup.find_project(gateway, settings, account, "promote")
    if project is not None:
        return project
    where = account.project or f"{groups.pre_sales}/{account.slug}"
    raise UsageError(
        f"account {account.slug}: no collaboration project at {where}, nor by its path in "
        f"{groups.pre_sales} or {groups.post_sales}; run `gl-csm onboard {account.slug}` first"
    )


def plan_promote(
    gateway: Gateway, settings: Settings, slug: str, today: date, tracking_iid: int | None = None
) -> Plan:
    groups, projects = settings.require_layout("promote")
    account = collab.load_account(settings, slug)
    if account.customer_since is None:
        raise UsageError(
            f"account {slug}: customer_since is not set in {account.source}, so the customer "
            f"has not paid and the project stays in pre-sales; set customer_since (the first "
            f"paid date) in the registry, then run `gl-csm promote {slug}` again"
        )
    manifest = manifest_for(collab.manifests_for(settings), account.segment)
    project = find_project(gateway, settings, account)
    require_accounts_project(gateway, settings, "promote")
    actual = collab.read_actual(gateway, project)
    pid = project["id"]
    old_path = project["path_with_namespace"]
    plan = Plan()

    new_path = old_path
    if project["namespace"]["full_path"] != groups.post_sales:
        new_path = f"{groups.post_sales}/{project['path']}"
        target = groups.post_sales

        def transfer(gw: Gateway, _r: Results) -> dict:
            try:
                return gw.transfer_project(pid, target)
            except GitLabError as exc:
                raise collab.convert_transfer_error(exc, account, old_path, target) from None

        plan.add(
            "transfer-project",
            old_path,
            f"to {target} (the customer paid on {account.customer_since})",
            transfer,
            account=slug,
            customer_visible=True,
        )

    # GitLab's web_url of the project, moved to the new path: one source for links.
    web_url = lookup.web_url_of(project, new_path)
    desired = collab.desired_for(
        manifest,
        account,
        settings,
        today,
        actual,
        phase="post-sales",
        path=new_path,
        web_url=web_url,
    )
    users = collab.Users(gateway, account, actual)
    milestone_ids = collab.plan_missing(plan, desired, actual, users)
    # The README and instructions say where the project stands (now post-sales) and
    # who the team is (the registry's, whoever was named when the project was made).
    collab.plan_bot_sections(plan, gateway, desired, actual)
    _plan_scheduling(plan, desired, actual, users, milestone_ids)
    closing = _plan_close_pre_sales(plan, desired, actual)
    _plan_close_pre_sales_milestones(plan, desired, actual, closing)

    card_project = {**project, "path_with_namespace": new_path, "web_url": web_url}
    collab.plan_tracking_and_registry(
        plan,
        gateway,
        settings,
        account,
        today,
        path=new_path,
        card_project=card_project,
        users=users,
        tracking_iid=tracking_iid,
    )
    return plan


def _plan_scheduling(
    plan: Plan,
    desired: collab.Desired,
    actual: collab.Actual,
    users: collab.Users,
    milestone_ids: dict[str, Any],
) -> None:
    """Issues created bare before payment (phase `any`, the Welcome call) get their
    assignee, due date and milestone now; what a person set already is kept."""
    slug = desired.slug
    ref = collab.project_ref(actual, slug)
    for w in desired.issues:
        if w.spec.phase != "any":
            continue
        found = collab.find_issue(actual, slug, w.key, w.title)
        if found is None or found.get("state") == "closed":
            continue  # created by plan_missing with its schedule; closed: leave it
        fields: dict[str, Any] = {}
        parts = []
        if w.assignee and not (found.get("assignees") or found.get("assignee")):
            users.resolve([w.assignee])
            fields["assignee_ids"] = [users.id(w.assignee)]
            parts.append(f"assign to {w.assignee}")
        if w.due_date and not found.get("due_date"):
            fields["due_date"] = w.due_date.isoformat()
            parts.append(f"due {w.due_date.isoformat()}")
        ms = milestone_ids.get(w.milestone) if w.milestone else None
        if ms is not None and not found.get("milestone"):
            ms_spec = desired.manifest.milestone(w.milestone)
            parts.append(f"milestone {(ms_spec.title if ms_spec else w.milestone)!r}")
        else:
            ms = None
        if not fields and ms is None:
            continue
        iid = found["iid"]

        def update(gw: Gateway, r: Results, f: dict = fields, m: Any = ms, i: int = iid) -> dict:
            data = dict(f)
            if m is not None:
                data["milestone_id"] = r[m]["id"] if isinstance(m, str) else m
            return gw.update_issue(ref(r), i, **data)

        plan.add(
            "update-issue",
            f"{desired.path}#{iid}",
            f"{w.title!r}: " + ", ".join(parts),
            update,
            account=slug,
            customer_visible=True,
        )


#: Marker kind of the note promote leaves on a pre-sales issue it closes.
NOTE_KIND = "project-note"
#: The note on a pre-sales issue promote closes (customer-visible: it names no internal
#: account fact, only what happened to the project).
POC_CLOSED = (
    "The evaluation is over and this project now supports your use of GitLab, so this "
    "pre-sales issue is closed. Nothing was deleted: reopen it if its work goes on."
)


def _plan_close_pre_sales(plan: Plan, desired: collab.Desired, actual: collab.Actual) -> set[int]:
    """Close the bot's open pre-sales issues (the template's ``phase: pre-sales``) with a
    note; the iids it closes."""
    closing: set[int] = set()
    slug = desired.slug
    ref = collab.project_ref(actual, slug)
    ours = markers.index_by_marker(actual.issues, collab.ISSUE_KIND)
    for spec in desired.manifest.issues:
        if spec.phase != "pre-sales":
            continue
        found = ours.get(f"{slug}/{spec.key}")
        if found is None or found.get("state") == "closed":
            continue
        iid = int(found["iid"])
        closing.add(iid)
        key = f"{slug}/{spec.key}/closed-at-promote"
        token = markers.token(NOTE_KIND, key)
        body = f"{markers.marker(NOTE_KIND, key)}\n"
        body += POC_CLOSED

        def close(gw: Gateway, r: Results, i: int = iid, b: str = body, t: str = token) -> dict:
            gw.create_note(ref(r), i, b, t)
            return gw.update_issue(ref(r), i, state_event="close")

        plan.add(
            "close-issue",
            f"{desired.path}#{iid}",
            f"{found.get('title')!r}: pre-sales only, with a note saying why (nothing deleted)",
            close,
            account=slug,
            customer_visible=True,
        )
    return closing


def _plan_close_pre_sales_milestones(
    plan: Plan, desired: collab.Desired, actual: collab.Actual, closing: set[int]
) -> None:
    """Close the bot's active pre-sales milestones (the template's ``phase: pre-sales``,
    found by marker) whose issues are all closed, or closed by this plan. One with an
    issue still open stays open; the plan says which issue keeps it open."""
    slug = desired.slug
    ref = collab.project_ref(actual, slug)
    ours = markers.index_by_marker(actual.milestones, collab.MILESTONE_KIND)
    for spec in desired.manifest.milestones:
        found = ours.get(f"{slug}/{spec.key}")
        if spec.phase != "pre-sales" or found is None or found.get("state") != "active":
            continue
        open_issues = [
            i
            for i in actual.issues
            if (i.get("milestone") or {}).get("id") == found["id"]
            and i.get("state") == "opened"
            and int(i["iid"]) not in closing
        ]
        if open_issues:
            names = ", ".join(f"#{i['iid']} {i.get('title')!r}" for i in open_issues)
            plan.notes.append(
                f"{desired.path}: the milestone {found.get('title')!r} stays open: "
                f"{names} on it {'is' if len(open_issues) == 1 else 'are'} still open"
            )
            continue
        mid = int(found["id"])

        def close(gw: Gateway, r: Results, m: int = mid) -> dict:
            return gw.update_milestone(ref(r), m, state_event="close")

        plan.add(
            "close-milestone",
            desired.path,
            f"{found.get('title')!r}: pre-sales only, every issue on it closed",
            close,
            account=slug,
            customer_visible=True,
        )


def plan_promote_on_label(
    gateway: Gateway, settings: Settings, slug: str, today: date, tracking_iid: int, label: str
) -> Plan:
    """`action::promote` on the tracking issue (SPEC 5 React; caught up by the scheduled
    triage when a webhook delivery was missed): promote, then remove the trigger label.
    The removal shares the account, so a failed promote keeps the label for a retry."""
    plan = plan_promote(gateway, settings, slug, today, tracking_iid)
    _, projects = settings.require_layout("promote")

    def remove(gw: Gateway, _r: Results) -> dict:
        return gw.update_issue(projects.accounts, tracking_iid, remove_labels=label)

    plan.add(
        "update-issue",
        f"{projects.accounts}#{tracking_iid} (tracking issue of {slug})",
        f"remove {label} (handled)",
        remove,
        account=slug,
    )
    return plan
