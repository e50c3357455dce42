"""`gl-csm onboard ACCOUNT` (SPEC 5 Onboard): the customer collaboration project.

Plan, then apply (ARCHITECTURE rule 2): the project (private) in the right group, its
files in one commit, the milestones, issues and members of the segment's template for
the phase the project starts in, the account's tracking issue in the internal accounts
project, and the project path written back to the registry file.

A first onboard reads only what it must (the project, to learn it does not exist; the
accounts project, to refuse a public one; the group; each team member's user; the
tracking issue) and writes the lower bound the API allows: 1 project + 1 commit + one
per milestone, issue and member + the tracking issue. Every write can be found again
(project by path, commit by the marker in its message, milestones and issues by their
markers, members by listing), so a run killed part-way and run again ends in the
state of an uninterrupted run, and a second run writes nothing.
"""

from __future__ import annotations

from datetime import date

from gl_csm.config import Settings
from gl_csm.errors import UsageError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan
from gl_csm.services import lookup
from gl_csm.services.collaboration import project_state as collab
from gl_csm.services.guards import require_accounts_project, require_collaboration_path
from gl_csm.templates import manifest_for


def plan_onboard(gateway: Gateway, settings: Settings, slug: str, today: date) -> Plan:
    groups, projects = settings.require_layout("onboard")
    account = collab.load_account(settings, slug)
    if account.digital:
        # A collaboration project promises a CSM-led relationship
        # ("Your Customer Success Manager leads this project"); a digital customer has
        # no CSM (SPEC 2, handbook 001: priority 4, served by the digital programs).
        raise UsageError(
            f"account {slug}: `digital: true` in {account.source or 'the registry'}: a "
            f"digital customer is not CSM-assigned, so gl-csm makes no collaboration "
            f"project for it (its README would promise a CSM who does not exist); when a "
            f"CSM takes the account, remove `digital: true`, set team.csm and run "
            f"`gl-csm onboard {slug}` again. Nothing was written"
        )
    manifest = manifest_for(collab.manifests_for(settings), account.segment)
    path = collab.project_path(manifest, account, groups)
    require_collaboration_path(settings, account.slug, path, "onboard")

    # Wherever the project went (a transfer or rename whose registry write-back was
    # never committed): never a second customer project (services/lookup.py).
    existing = lookup.find_project(gateway, settings, account, "onboard")
    accounts_project = require_accounts_project(gateway, settings, "onboard")
    plan = Plan()
    if existing is None:
        namespace_path, _, path_part = path.rpartition("/")
        if namespace_path not in (groups.pre_sales, groups.post_sales):
            raise UsageError(
                f"account {slug}: key 'project' is {path!r}, which does not exist and is not "
                f"in a collaboration group ({groups.pre_sales} or {groups.post_sales}); fix "
                f"`project:` in {account.source} or remove it"
            )
        group = gateway.group(namespace_path)
        if group is None:
            key = "pre_sales" if namespace_path == groups.pre_sales else "post_sales"
            raise UsageError(
                f"group {namespace_path!r} (groups.{key}) does not exist in GitLab at "
                f"{gateway.url}; create it or fix the config"
            )
        actual = collab.Actual()
        phase = collab.phase_of(manifest, account, groups, namespace_path)
    else:
        path = existing["path_with_namespace"]
        actual = collab.read_actual(gateway, existing)
        phase = collab.phase_of(manifest, account, groups, existing["namespace"]["full_path"])

    # Links come from GitLab's own web_url (the accounts project's for a project not
    # made yet), never from the URL the bot uses: the same text on every run.
    card_project = existing or collab.planned_project(accounts_project, path, "")
    web_url = card_project["web_url"]
    # handbook 003: the playbook of a new or an existing customer (customer_variant);
    # a project made earlier keeps the variant it was made with.
    desired = collab.desired_for(
        manifest,
        account,
        settings,
        today,
        actual,
        phase=phase,
        path=path,
        web_url=web_url,
    )
    users = collab.Users(gateway, account, actual)
    # Unknown users are an error before anything is planned, let alone written.
    users.resolve(m.username for m in desired.members if m.username not in actual.effective)

    if existing is None:
        plan.add(
            "create-project",
            path,
            f"private project {desired.name!r} from the {manifest.name} template ({phase})",
            lambda gw, _r: gw.create_project(
                group,
                path_part,
                desired.name,
                visibility="private",
                description=desired.description,
            ),
            key=collab.project_key(slug),
            account=slug,
            customer_visible=True,
        )
    collab.plan_missing(plan, desired, actual, users)

    if existing is None:
        card_project = {**card_project, "name": desired.name}
    collab.plan_tracking_and_registry(
        plan, gateway, settings, account, today, path=path, card_project=card_project, users=users
    )
    if phase == "pre-sales" and not account.pre_sales:
        plan.notes.append(
            f"{slug} has paid (customer_since {account.customer_since}) but its project is in "
            f"pre-sales: run `gl-csm promote {slug}`"
        )
    return plan
