"""The customer collaboration project: desired state from a template, actual state
from GitLab, and the changes between them. Shared by `onboard`, `promote` and `verify`.

* **Desired** (:func:`desired_state`): what the segment's template (SPEC 5,
  ``project_templates/``) says the project holds in a phase: files, labels, milestones,
  issues and members by role, rendered for the account from an allow-list of its
  fields (SPEC 1: nothing internal reaches the customer).
* **Actual** (:func:`read_actual`): what GitLab has, or nothing for a project that does
  not exist yet (a first onboard reads nothing inside it).
* **Plan** (:func:`plan_missing`): one change per missing item, never an edit of what
  people changed: a file that exists is left as it is (an edited README stays edited),
  an issue found is not touched (a closed one is not reopened), a member with at least
  the wanted access is left alone.

Finding what exists (ARCHITECTURE rule 3): issues by their marker
``gl-csm:project-issue:<slug>/<key>`` (people may retitle them), milestones by a
marker in their description. Projects made by hand before gl-csm (upgrade
engagements) have no markers: an issue or milestone with the template's title (case
and spacing ignored) counts as present instead, so `verify --fix` on such a project
does not duplicate what the team already has.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from gl_csm import markers
from gl_csm.config import Groups, Settings
from gl_csm.domain.account import Account
from gl_csm.errors import GitLabError, UsageError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan, Results
from gl_csm.registry_writeback import write_project_path
from gl_csm.services.collaboration import phase_sections, team_sections
from gl_csm.services.tracking import UserIds, plan_tracking_issue
from gl_csm.templates import (
    ROLES,
    IssueSpec,
    LabelSpec,
    Manifest,
    collaboration_context,
    load_manifests,
    render,
    render_one_line,
    templates_root,
)

ISSUE_KIND = "project-issue"
MILESTONE_KIND = "project-milestone"
FILES_KIND = "project-files"
DEFAULT_BRANCH = "main"


# ---------------------------------------------------------------- where the project goes


def manifests_for(settings: Settings) -> dict[str, Manifest]:
    config_dir = settings.config_path.resolve().parent if settings.config_path else None
    return load_manifests(templates_root(config_dir))


def start_group(manifest: Manifest, account: Account, groups: Groups) -> str:
    """SPEC 5: enterprise accounts start in pre-sales unless they already pay;
    commercial accounts (no pre-sales phase in their template) in post-sales."""
    if "pre-sales" in manifest.phases and account.pre_sales:
        return groups.pre_sales
    return groups.post_sales


def project_path(manifest: Manifest, account: Account, groups: Groups) -> str:
    """The registry's ``project:`` when set, else ``<start group>/<slug>``."""
    if account.project:
        return account.project.strip("/")
    return f"{start_group(manifest, account, groups)}/{account.slug}"


def phase_of(manifest: Manifest, account: Account, groups: Groups, namespace: str) -> str:
    """The phase a project is in: by its group; a project elsewhere (made by hand) by
    whether the customer has paid."""
    if "pre-sales" not in manifest.phases:
        return "post-sales"
    if namespace == groups.pre_sales:
        return "pre-sales"
    if namespace == groups.post_sales:
        return "post-sales"
    return "pre-sales" if account.pre_sales else "post-sales"


_NAME_BAD = re.compile(r"[^\w .+\-]+", re.UNICODE)


def project_name(account: Account) -> str:
    """A GitLab project name (letters, digits, '_', '.', '+', '-', spaces; starting with
    a letter, digit or '_') made from the account name; the slug when nothing is left."""
    name = " ".join(_NAME_BAD.sub(" ", account.name).split())
    name = name.strip(".+- ")
    return name[:200] or account.slug


# ---------------------------------------------------------------- which customer


def customer_variant(account: Account, day: date, window_days: int) -> str:
    """``existing`` for a customer who had paid and was past onboarding on ``day`` (the
    day the project is made: SPEC 5 Onboard, handbook 003 "the appropriate playbook
    (New, Existing Customer)"), else ``new``. Past onboarding: onboarding completed by
    then, or the onboarding window (SPEC 3) over."""
    since = account.customer_since
    if since is None or since > day:
        return "new"
    done = account.onboarding_completed
    if done is not None and done <= day:
        return "existing"
    return "existing" if day >= since + timedelta(days=window_days) else "new"


def variant_of_project(
    manifest: Manifest, account: Account, actual: Actual, today: date, window_days: int
) -> str:
    """The variant a project was made with: told by the bot's own items it holds (a
    Welcome call issue is a new customer's, a success plan review an existing one's),
    from the listings already read; a project without any (made by hand before gl-csm,
    or its items' markers removed) by the customer on the day GitLab says it was
    created; a project not made yet by the customer today."""
    if actual.exists:
        by_key = {i.key: i.customers for i in manifest.issues}
        by_key.update({m.key: m.customers for m in manifest.milestones})
        said: set[str] = set()
        for items, kind in ((actual.issues, ISSUE_KIND), (actual.milestones, MILESTONE_KIND)):
            for key in markers.index_by_marker(items, kind):
                slug, _, item = key.rpartition("/")
                if slug == account.slug and by_key.get(item) in ("new", "existing"):
                    said.add(by_key[item])
        if len(said) == 1:
            return said.pop()
        created = (actual.project or {}).get("created_at")
        if not said and created:
            return customer_variant(account, date.fromisoformat(str(created)[:10]), window_days)
    return customer_variant(account, today, window_days)


def window_days(settings: Settings, account: Account) -> int:
    return int(getattr(settings.rules.onboarding_window_days, account.segment))


# ---------------------------------------------------------------- desired state


@dataclass(frozen=True)
class WantedMilestone:
    key: str
    title: str
    description: str
    start_date: date
    due_date: date


@dataclass(frozen=True)
class WantedIssue:
    spec: IssueSpec
    title: str
    description: str
    labels: tuple[str, ...]
    milestone: str | None  # key
    assignee: str | None  # username
    due_date: date | None

    @property
    def key(self) -> str:
        return self.spec.key


@dataclass(frozen=True)
class WantedMember:
    role: str
    username: str
    access_level: int


@dataclass(frozen=True)
class Desired:
    manifest: Manifest
    account: Account
    phase: str
    variant: str  # new | existing (customer_variant)
    path: str
    name: str
    description: str
    files: dict[str, str]
    labels: tuple[LabelSpec, ...]
    milestones: tuple[WantedMilestone, ...]
    issues: tuple[WantedIssue, ...]
    members: tuple[WantedMember, ...]

    @property
    def slug(self) -> str:
        return self.account.slug


def phase_start(phase: str, account: Account, today: date, window_days: int) -> date:
    """Due dates count from the start of the phase: the customer's first paid day in
    post-sales (today for a commercial account not marked paid yet), today in pre-sales.

    An upgrade engagement (handbook 001: a project for a customer who is past
    onboarding, or an onboarding window that ended before the project was made) plans
    from today: milestones dated years ago would be late on the day they are created."""
    since = account.customer_since
    if phase != "post-sales" or since is None:
        return today
    if account.onboarding_completed is not None or today >= since + timedelta(days=window_days):
        return today
    return since


def issue_due(start: date, days_due: date, today: date) -> date:
    """An issue's due date; one already past when the issue is made is moved to the
    same distance from today (a late promote still gives the AE a week for the
    Welcome call: customer_since + 7 days, or today + 7 when that is past)."""
    if days_due >= today:
        return days_due
    return today + (days_due - start)


def desired_for(
    manifest: Manifest,
    account: Account,
    settings: Settings,
    today: date,
    actual: Actual,
    *,
    phase: str,
    path: str,
    web_url: str,
) -> Desired:
    """The desired state of an existing (or about to be made) project: the variant it
    was made with (handbook 003: a new or an existing customer's playbook, see
    variant_of_project), then desired_state for it."""
    variant = variant_of_project(manifest, account, actual, today, window_days(settings, account))
    return desired_state(
        manifest, account, settings, today, phase=phase, path=path, web_url=web_url, variant=variant
    )


def desired_state(
    manifest: Manifest,
    account: Account,
    settings: Settings,
    today: date,
    *,
    phase: str,
    path: str,
    web_url: str,
    variant: str | None = None,
) -> Desired:
    """What the project holds in ``phase`` for the ``variant`` of customer (default: the
    customer on ``today``, see customer_variant; pre-sales is always a new customer)."""
    window = window_days(settings, account)
    if phase != "post-sales":
        variant = "new"
    elif variant is None:
        variant = customer_variant(account, today, window)
    start = phase_start(phase, account, today, window)
    milestone_specs = manifest.milestones_for(phase, variant)
    ebr = next_ebr(account, settings, start)
    dates = {m.key: m.due.resolve(start, window, ebr) for m in milestone_specs}
    # "Where we are" follows the customer, not the variant the project was made for:
    # once onboarding is over it says where the engagement stands today.
    onboarded = past_onboarding(phase, variant, account, today, window)
    context = collaboration_context(
        account,
        manifest=manifest,
        phase=phase,
        project_path=path,
        project_url=web_url,
        start=start,
        dates=dates,
        variant=variant,
        standing=_standing(account, next_ebr(account, settings, today)) if onboarded else None,
        onboarded=onboarded,
    )
    # Every milestone key is defined (None when not in this phase): templates can test
    # `{% if dates.poc %}` under StrictUndefined.
    context["dates"] = {
        m.key: (dates[m.key].isoformat() if m.key in dates else None) for m in manifest.milestones
    }
    src = manifest.source
    files = {
        f.path: render(
            manifest.text(f.template), context, name=f"{manifest.root.name}/{f.template}"
        )
        for f in manifest.files
    }
    milestones = tuple(
        WantedMilestone(
            key=m.key,
            title=m.title,
            description=_with_marker(
                markers.marker(MILESTONE_KIND, f"{account.slug}/{m.key}"),
                render(m.description, context, name=f"{src}: milestones.{m.key}.description"),
            ),
            start_date=start,
            due_date=dates[m.key],
        )
        for m in milestone_specs
    )
    issues = []
    for spec in manifest.issues_for(phase, variant):
        body = render(
            manifest.text(spec.template), context, name=f"{manifest.root.name}/{spec.template}"
        )
        title = render_one_line(spec.title, context, name=f"{src}: issues.{spec.key}.title")
        # An `any` issue made in pre-sales is scheduled when the customer pays (promote).
        scheduled = spec.phase != "any" or phase == "post-sales"
        assignee = _first_role(account, spec.assignee) if scheduled else None
        due = None
        if scheduled and spec.due is not None:
            due = issue_due(start, spec.due.resolve(start, window, ebr), today)
        milestone = spec.milestone if spec.milestone in dates else None
        issues.append(
            WantedIssue(
                spec=spec,
                title=title,
                description=_with_marker(issue_marker(account.slug, spec.key), body),
                labels=spec.labels,
                milestone=milestone,
                assignee=assignee,
                due_date=due,
            )
        )
    members = tuple(
        WantedMember(m.role, getattr(account.team, m.role), m.access_level)
        for m in manifest.members_for(phase)
        if getattr(account.team, m.role)
    )
    return Desired(
        manifest=manifest,
        account=account,
        phase=phase,
        variant=variant,
        path=path,
        name=project_name(account),
        description=render_one_line(manifest.description, context, name=f"{src}: description"),
        files=files,
        labels=manifest.labels,
        milestones=milestones,
        issues=tuple(issues),
        members=members,
    )


def past_onboarding(phase: str, variant: str, account: Account, today: date, window: int) -> bool:
    """Whether the project's "Where we are" speaks of the engagement as it stands (the
    customer paid and is past onboarding today, or the project was made for an existing
    customer) rather than of the evaluation or the onboarding."""
    if phase != "post-sales":
        return False
    return variant == "existing" or customer_variant(account, today, window) == "existing"


def next_ebr(account: Account, settings: Settings, start: date) -> date:
    """The next Executive Business Review (SPEC 5.2: 6 months after customer_since,
    then yearly) not before ``start``; 6 months from ``start`` without a paid date."""
    from dateutil.relativedelta import relativedelta

    from gl_csm.domain.reminders import next_date

    # The EBR kind of the reminder table (a team may have re-timed it in config).
    kind = settings.rules.reminder("ebr")
    return next_date(kind, account, start, settings.rules) or start + relativedelta(months=6)


def _standing(account: Account, ebr: date) -> dict[str, Any]:
    """Where an existing customer's engagement stands, for its README: facts the
    customer shares with its account team (the objectives of the success plan built
    together, the next business review, the subscription's renewal date) and nothing
    the team keeps to itself (ARR, health, priority, risk: SPEC 1)."""
    plan = account.success_plan
    objectives = getattr(plan, "objectives", None) if plan is not None else None
    return {
        "objectives": objectives or None,
        "next_ebr": ebr.isoformat(),
        "renewal": account.renewal_date.isoformat() if account.renewal_date else None,
    }


def issue_marker(slug: str, key: str) -> str:
    return markers.marker(ISSUE_KIND, f"{slug}/{key}")


def issue_token(slug: str, key: str) -> str:
    return markers.token(ISSUE_KIND, f"{slug}/{key}")


def _with_marker(marker_line: str, body: str) -> str:
    return f"{marker_line}\n{body.rstrip()}\n"


def _first_role(account: Account, roles: Iterable[str]) -> str | None:
    for role in roles:
        username = getattr(account.team, role)
        if username:
            return username
    return None


# ---------------------------------------------------------------- actual state


@dataclass
class Actual:
    """What GitLab has; ``project`` None means the project does not exist yet."""

    project: dict | None = None
    files: set[str] = field(default_factory=set)
    milestones: list[dict] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)
    members: dict[str, dict] = field(default_factory=dict)  # direct, by username
    effective: dict[str, int] = field(default_factory=dict)  # incl. inherited
    labels: set[str] | None = None  # only read when asked

    @property
    def exists(self) -> bool:
        return self.project is not None

    @property
    def branch(self) -> str:
        return (self.project or {}).get("default_branch") or DEFAULT_BRANCH


def read_actual(gateway: Gateway, project: dict, *, labels: bool = False) -> Actual:
    pid = project["id"]
    actual = Actual(project=project)
    if not project.get("empty_repo"):
        actual.files = {
            e["path"] for e in gateway.tree(pid, ref=actual.branch) if e.get("type") == "blob"
        }
    actual.milestones = gateway.milestones(pid)  # every state (doc/api/milestones.md)
    actual.issues = gateway.issues(pid, state="all")
    direct = gateway.members(pid)
    actual.members = {m["username"]: m for m in direct}
    actual.effective = {m["username"]: int(m["access_level"]) for m in direct}
    for m in gateway.members(pid, inherited=True):
        level = int(m["access_level"])
        if level > actual.effective.get(m["username"], 0):
            actual.effective[m["username"]] = level
    if labels:
        actual.labels = {lb["name"] for lb in gateway.project_labels(pid)}
    return actual


def _norm(title: str | None) -> str:
    return " ".join((title or "").lower().split())


def find_issue(actual: Actual, slug: str, spec_key: str, title: str) -> dict | None:
    """By marker; for projects made before gl-csm, by title (see module docstring)."""
    by_marker = markers.index_by_marker(actual.issues, ISSUE_KIND)
    found = by_marker.get(f"{slug}/{spec_key}")
    if found is not None:
        return found
    unmarked = [
        i
        for i in actual.issues
        if not markers.markers_in(i.get("description")) and _norm(i.get("title")) == _norm(title)
    ]
    return min(unmarked, key=lambda i: i["id"]) if unmarked else None


def find_milestone(actual: Actual, slug: str, key: str, title: str) -> dict | None:
    by_marker = markers.index_by_marker(actual.milestones, MILESTONE_KIND)
    found = by_marker.get(f"{slug}/{key}")
    if found is not None:
        return found
    same = [m for m in actual.milestones if _norm(m.get("title")) == _norm(title)]
    return min(same, key=lambda m: m["id"]) if same else None


# ---------------------------------------------------------------- users


class Users:
    """Username -> GitLab user id: from the project's members when known, else one
    ``GET /users?username=`` each, at plan time, so an unknown user is an error before
    anything is written."""

    def __init__(self, gateway: Gateway, account: Account, actual: Actual | None) -> None:
        self.gateway = gateway
        self.account = account
        self.ids: dict[str, int] = {}
        if actual is not None:
            for username, m in actual.members.items():
                self.ids[username] = int(m["id"])

    def resolve(self, usernames: Iterable[str]) -> None:
        missing = []
        for name in dict.fromkeys(usernames):
            if name in self.ids:
                continue
            user = self.gateway.user(name)
            if user is None:
                missing.append(name)
            else:
                self.ids[name] = int(user["id"])
        if missing:
            roles = {
                getattr(self.account.team, r): r
                for r in ("csm", "sa", "ae", "pse")
                if getattr(self.account.team, r)
            }
            named = ", ".join(f"team.{roles[n]}: {n!r}" if n in roles else repr(n) for n in missing)
            raise UsageError(
                f"account {self.account.slug} ({self.account.source or 'registry'}): "
                f"GitLab user {named} does not exist at {self.gateway.url}; fix the username "
                f"in the registry file (nothing was written)"
            )

    def id(self, username: str) -> int:
        return self.ids[username]


# ---------------------------------------------------------------- plan


@dataclass
class Drift:
    """One difference between a project and its template (for `verify`)."""

    kind: str  # file | label | milestone | issue | member
    item: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "item": self.item, "detail": self.detail}


def project_key(slug: str) -> str:
    return f"project:{slug}"


def project_ref(actual: Actual, slug: str):  # noqa: ANN201 - returns a resolver
    """The project id for a change: known now, or made by an earlier change."""
    if actual.project is not None:
        pid = actual.project["id"]
        return lambda _results: pid
    key = project_key(slug)
    return lambda results: results[key]["id"]


def files_marker(slug: str, paths: Iterable[str]) -> str:
    """Commit marker: the files it adds are part of the key, so a later commit that adds
    other missing files is not mistaken for this one after a lost answer."""
    digest = hashlib.sha1("\n".join(sorted(paths)).encode()).hexdigest()[:10]
    return markers.token(FILES_KIND, f"{slug}/{digest}")


#: The project id for a change, given the results of the changes before it.
ProjectRef = Callable[[Results], Any]


def plan_missing(
    plan: Plan,
    desired: Desired,
    actual: Actual,
    users: Users,
    *,
    labels: bool = False,
    drift: list[Drift] | None = None,
) -> dict[str, Any]:
    """Add a change for every template item the project lacks (see module docstring).
    Returns the milestone ids by key (an id, or the result key of the change making it).

    Users for new members and assignees are resolved first: an unknown user stops the
    plan before any change is added.
    """
    slug = desired.slug
    ref = project_ref(actual, slug)
    drift = drift if drift is not None else []

    missing_members = [
        m for m in desired.members if actual.effective.get(m.username, 0) < m.access_level
    ]
    missing_issues = [w for w in desired.issues if find_issue(actual, slug, w.key, w.title) is None]
    needed = [m.username for m in missing_members]
    needed += [w.assignee for w in missing_issues if w.assignee]
    users.resolve(needed)

    # Members first: GitLab drops, without an error, an assignee who cannot read the
    # project (app/services/issuable_base_service.rb), so the template's issues are
    # assigned only once their people are members of the private project.
    _plan_members(plan, desired, actual, users, ref, missing_members, drift)
    _plan_files(plan, desired, actual, ref, drift)
    if labels and actual.labels is not None:
        _plan_labels(plan, desired, actual.labels, ref, drift)
    milestone_ids = _plan_milestones(plan, desired, actual, ref, drift)
    _plan_issues(plan, desired, users, ref, missing_issues, milestone_ids, drift)
    return milestone_ids


def _plan_members(
    plan: Plan,
    desired: Desired,
    actual: Actual,
    users: Users,
    ref: ProjectRef,
    missing_members: list[WantedMember],
    drift: list[Drift],
) -> None:
    """Add or raise each template member the project lacks."""
    account = desired.slug
    target = desired.path
    for m in missing_members:
        current = actual.members.get(m.username)
        level_name = _level_name(m.access_level)
        if current is None:
            drift.append(Drift("member", m.username, f"missing ({m.role}, {level_name})"))
            plan.add(
                "add-member",
                f"{target}",
                f"{m.username} ({m.role}) as {level_name}",
                lambda gw, r, u=m: gw.add_member(ref(r), users.id(u.username), u.access_level),
                account=account,
            )
        else:
            old = _level_name(int(current["access_level"]))
            drift.append(Drift("member", m.username, f"{old}, template wants {level_name}"))
            plan.add(
                "update-member",
                f"{target}",
                f"{m.username} ({m.role}) from {old} to {level_name}",
                lambda gw, r, u=m: gw.update_member(ref(r), users.id(u.username), u.access_level),
                account=account,
            )


def _plan_files(
    plan: Plan, desired: Desired, actual: Actual, ref: ProjectRef, drift: list[Drift]
) -> None:
    """One commit with every missing file (SPEC 5: files in one commit)."""
    slug = desired.slug
    target = desired.path
    missing_files = [p for p in desired.files if p not in actual.files]
    if missing_files:
        token = files_marker(slug, missing_files)
        message = (
            f"Add the customer collaboration project files ({desired.manifest.title})\n\n"
            f"Made by gl-csm from project_templates/{desired.manifest.name}.\n{token}\n"
        )
        actions = [
            {"action": "create", "file_path": p, "content": desired.files[p]} for p in missing_files
        ]
        branch = actual.branch
        for p in missing_files:
            drift.append(Drift("file", p, "missing"))
        plan.add(
            "commit",
            f"{target}",
            f"{len(actions)} file(s) in one commit: {', '.join(missing_files)}",
            lambda gw, r, a=actions, m=message, t=token, b=branch: gw.commit(ref(r), b, m, a, t),
            account=slug,
            customer_visible=True,
        )


def _plan_labels(
    plan: Plan, desired: Desired, available: set[str], ref: ProjectRef, drift: list[Drift]
) -> None:
    """A project label for each template label the project cannot use (not in ``available``)."""
    target = desired.path
    for lb in desired.labels:
        if lb.name in available:
            continue
        drift.append(Drift("label", lb.name, "not available to the project"))
        plan.add(
            "create-label",
            f"{target}",
            f"{lb.name} ({lb.color}) as a project label (run `gl-csm setup` to have it "
            f"on the collaboration groups)",
            lambda gw, r, d=lb: gw.create_label("project", ref(r), d.name, d.color, d.description),
            account=desired.slug,
            customer_visible=True,
        )


def _plan_milestones(
    plan: Plan, desired: Desired, actual: Actual, ref: ProjectRef, drift: list[Drift]
) -> dict[str, Any]:
    """Create the missing milestones; the ids by key (an id, or a result key)."""
    slug = desired.slug
    target = desired.path
    milestone_ids: dict[str, Any] = {}
    for m in desired.milestones:
        found = find_milestone(actual, slug, m.key, m.title)
        if found is not None:
            milestone_ids[m.key] = found["id"]
            continue
        key = f"milestone:{slug}/{m.key}"
        milestone_ids[m.key] = key
        drift.append(Drift("milestone", m.title, f"missing (due {m.due_date.isoformat()})"))
        plan.add(
            "create-milestone",
            f"{target}",
            f"{m.title!r} {m.start_date.isoformat()} .. {m.due_date.isoformat()}",
            lambda gw, r, w=m: gw.create_milestone(
                ref(r),
                w.title,
                description=w.description,
                start_date=w.start_date.isoformat(),
                due_date=w.due_date.isoformat(),
            ),
            key=key,
            account=slug,
            customer_visible=True,
        )
    return milestone_ids


def _plan_issues(
    plan: Plan,
    desired: Desired,
    users: Users,
    ref: ProjectRef,
    missing_issues: list[WantedIssue],
    milestone_ids: dict[str, Any],
    drift: list[Drift],
) -> None:
    """Create the missing template issues, in template order, on their milestones."""
    slug = desired.slug
    target = desired.path
    for w in desired.issues:
        if w not in missing_issues:
            continue
        fields: dict[str, Any] = {}
        if w.labels:
            fields["labels"] = ",".join(w.labels)
        if w.assignee:
            fields["assignee_ids"] = [users.id(w.assignee)]
        if w.due_date:
            fields["due_date"] = w.due_date.isoformat()
        ms_ref = milestone_ids.get(w.milestone) if w.milestone else None
        parts = [f"{w.title!r}"]
        if w.assignee:
            parts.append(f"assigned to {w.assignee}")
        if w.due_date:
            parts.append(f"due {w.due_date.isoformat()}")
        if w.milestone:
            ms_spec = desired.manifest.milestone(w.milestone)
            parts.append(f"milestone {(ms_spec.title if ms_spec else w.milestone)!r}")
        drift.append(Drift("issue", w.title, "missing"))

        def create_issue(
            gw: Gateway, r: Results, w: WantedIssue = w, f: dict = fields, ms: Any = ms_ref
        ) -> dict:
            data = dict(f)
            if ms is not None:
                data["milestone_id"] = r[ms]["id"] if isinstance(ms, str) else ms
            return gw.create_issue(ref(r), w.title, w.description, issue_token(slug, w.key), **data)

        plan.add(
            "create-issue",
            f"{target}",
            ", ".join(parts),
            create_issue,
            key=f"issue:{slug}/{w.key}",
            account=slug,
            customer_visible=True,
        )


def plan_bot_sections(
    plan: Plan,
    gateway: Gateway,
    desired: Desired,
    actual: Actual,
    drift: list[Drift] | None = None,
    *,
    phase: bool = True,
    passages: bool = False,
) -> None:
    """The bot's own parts of the project's texts, made to say what the project and the
    registry say now (SPEC 5: they "follow the registry ... in one commit, never
    touching what people wrote"; ``phase=False``: the team parts only):

    * files whose phase passages say another phase than the project's group (after
      promote the README still said "Where we are: evaluation") and files whose team
      parts name another team than the registry's: those parts, and only those, are
      replaced in ONE commit;
    * with ``passages`` (the daily triage, once the account moved on), also the phase
      passages of a post-sales project whose text is not the template's today (the
      onboarding window ended; the next business review or the renewal moved). A
      pre-sales project's passage is left as promote will replace it: its target
      dates count from the day it is rendered;
    * open preloaded issues whose team part names another team (the Welcome call's
      GitLab attendees): that part of the description, one update each. A closed issue
      is history (the call was held with the people it names) and is left alone.

    Files and issues people took over (markers removed) and those the project lacks
    (plan_missing adds them) are left out. Reads: one per file with a bot part (the
    issues come from the listing already read)."""
    if not actual.exists:
        return
    assert actual.project is not None
    pid = actual.project["id"]
    team = _team_words(desired.account)
    updates: dict[str, str] = {}
    what: set[str] = set()  # which parts change: "phase", "team"
    restate = passages and desired.phase == "post-sales"
    for path, wanted in desired.files.items():
        has_phase = (phase or restate) and bool(phase_sections.phases_in(wanted))
        if path not in actual.files or not (has_phase or team_sections.sections(wanted)):
            continue
        text = gateway.file_text(pid, path, actual.branch) or ""
        new = text
        said = phase_sections.phases_in(text)
        if has_phase and restate and set(said) == {desired.phase}:
            now = phase_sections.with_phase_of(new, wanted)
            if now is not None:
                if drift is not None:
                    drift.append(
                        Drift(
                            "file",
                            path,
                            "its phase passage is out of date (the account moved on since it "
                            "was written)",
                        )
                    )
                new = now
                what.add("now")
        elif phase and has_phase and said and set(said) != {desired.phase}:
            if drift is not None:
                drift.append(
                    Drift(
                        "file",
                        path,
                        f"says phase {', '.join(dict.fromkeys(said))}; the project is in "
                        f"{desired.phase} (phase mismatch)",
                    )
                )
            new = phase_sections.with_phase_of(new, wanted) or new
            what.add("phase")
        teamed = team_sections.with_team_of(new, wanted)
        if teamed is not None:
            if drift is not None:
                drift.append(
                    Drift("team", path, f"names another team than the registry's ({team})")
                )
            new = teamed
            what.add("team")
        if new != text:
            updates[path] = new
    if updates:
        digest = hashlib.sha1("\n".join(f"{p}\n{t}" for p, t in sorted(updates.items())).encode())
        token = markers.token("project-phase", f"{desired.slug}/{digest.hexdigest()[:10]}")
        parts = " and ".join(sorted({"now": "phase"}.get(w, w) for w in what))
        subject = {
            "now": "Say where we are now",
            "phase": f"Say where the project stands: {desired.phase}",
            "team": f"Name the account team: {team}",
        }
        message = (
            "; ".join(subject[w] for w in sorted(what)) + "\n\n"
            f"Made by gl-csm: only the parts of the files that change with the {parts}."
            f"\n{token}\n"
        )
        actions = [
            {"action": "update", "file_path": p, "content": t} for p, t in sorted(updates.items())
        ]
        branch = actual.branch
        plan.add(
            "commit",
            desired.path,
            f"{len(actions)} file(s) in one commit: the {parts} passages of "
            f"{', '.join(sorted(updates))}",
            lambda gw, _r: gw.commit(pid, branch, message, actions, token),
            account=desired.slug,
            customer_visible=True,
        )
    _plan_issue_team_parts(plan, desired, actual, team, drift)


def _plan_issue_team_parts(
    plan: Plan, desired: Desired, actual: Actual, team: str, drift: list[Drift] | None
) -> None:
    slug = desired.slug
    pid = (actual.project or {})["id"]
    for w in desired.issues:
        if not team_sections.sections(w.description):
            continue
        found = find_issue(actual, slug, w.key, w.title)
        if found is None or found.get("state") == "closed":
            continue
        text = found.get("description") or ""
        new = team_sections.with_team_of(text, w.description)
        if new is None:
            continue
        title = found.get("title") or w.title
        if drift is not None:
            drift.append(Drift("team", title, f"names another team than the registry's ({team})"))
        iid = found["iid"]
        plan.add(
            "update-issue",
            f"{desired.path}#{iid}",
            f"{title!r}: the team part names the registry's team ({team}); the rest of the "
            f"description is kept",
            lambda gw, _r, i=iid, d=new: gw.update_issue(pid, i, description=d),
            account=slug,
            customer_visible=True,
        )


def _team_words(account: Account) -> str:
    """The registry's team in a few words: ``csm erin, sa bob, ae carol``."""
    return ", ".join(
        f"{role} {getattr(account.team, role)}" for role in ROLES if getattr(account.team, role)
    )


def _level_name(level: int) -> str:
    from gl_csm.templates import ACCESS_LEVELS

    for name, value in ACCESS_LEVELS.items():
        if value == level:
            return name
    return f"access level {level}"


# ---------------------------------------------------------------- shared checks


def load_account(settings: Settings, slug: str) -> Account:
    from gl_csm.registry import load_registry

    registry = load_registry(settings.accounts_dir, [slug])
    if registry.problems:
        raise UsageError(str(registry.problems[0]))
    return registry.by_slug()[slug]


def planned_project(reference: dict, path: str, name: str) -> dict:
    """What the tracking card needs of a project that a change is about to make; its
    URL from a project GitLab returned (``reference``), as GitLab will give it."""
    from gl_csm.services.lookup import web_url_of

    return {"path_with_namespace": path, "web_url": web_url_of(reference, path), "name": name}


def convert_transfer_error(
    exc: GitLabError, account: Account, project: str, target: str
) -> GitLabError:
    """A transfer refused by GitLab, as a message that says what to do."""
    text = str(exc)
    answer = text.split("GitLab answered", 1)[-1].strip(" :") if "GitLab answered" in text else text
    if "already exists" in text or "has already been taken" in text:
        todo = (
            f"a project with the same name or path already exists in {target}: rename or "
            f"move that project, or set `project:` in the registry file to the project to use"
        )
    elif "403" in text or "Forbidden" in text:
        todo = (
            f"the token's user may not move it: it needs the Owner role on {project} and at "
            f"least Maintainer on {target}"
        )
    elif "404" in text:
        todo = f"the group {target} was not found: check groups.post_sales in the config"
    else:
        todo = "fix the cause and run the command again"
    return GitLabError(
        f"account {account.slug}: could not move project {project} to {target}; GitLab "
        f"answered {answer}. The project stays where it was; {todo}"
    )


def plan_tracking_and_registry(
    plan: Plan,
    gateway: Gateway,
    settings: Settings,
    account: Account,
    today: date,
    *,
    path: str,
    card_project: dict,
    users: Users,
    tracking_iid: int | None = None,
) -> None:
    """How onboard and promote both end: the account's tracking issue links the project
    (user ids already resolved are reused), and the registry's `project:` names it.
    The tracking issue is found without GitLab's search (services/lookup.py)."""
    from gl_csm.services.lookup import find_tracking

    tracking = find_tracking(gateway, settings, account, iid=tracking_iid)
    assessment = None
    if tracking is not None:
        # Labels as the daily triage computes them (with the labels people set, SPEC 4);
        # the card text stays the triage's (plan_tracking_issue card=False).
        from gl_csm.domain.assessment import assess
        from gl_csm.services.label_signals import signals_of

        assessment = assess(account, settings.rules, today, signals_of(tracking, settings)[0])
    plan_tracking_issue(
        plan,
        gateway,
        settings,
        account,
        today,
        existing=tracking,
        project=card_project,
        users=UserIds(users.ids),
        assessment=assessment,
        card=tracking is None,
    )
    if account.project != path and account.source:
        plan.add(
            "update-registry",
            account.source,
            f"project: {path}",
            lambda _gw, _r: write_project_path(account.source, path),
            account=account.slug,
        )
