"""`gl-csm verify ACCOUNT [--fix]` (SPEC 5 Verify): a project against its template.

Lists what the project lacks compared with the segment's template for the phase it is
in (its group says which: pre-sales or post-sales; a project outside both groups, made
by hand, by whether the customer has paid): files, labels available to the project,
milestones, issues, members (missing, or with less access than the template's role).
``--fix`` adds exactly those through the same plan machinery as onboard.

The template is the variant the project was made with (handbook 003: the playbook of a
new or an existing customer; project_state.variant_of_project), never the customer's
of today: a new customer's project verified a year later is still a new customer's.

It never deletes or rewrites what people changed: a file that exists is not compared
(an edited README stays edited) except for the bot's own sections between hidden
markers: a phase passage ("Where we are") that says another phase than the project's
is a phase mismatch, one that no longer says where a post-sales account stands (its
onboarding ended, its renewal moved) is out of date, a team part (team table,
members, the open Welcome call's attendees) that names another team than the
registry's is team drift; `--fix` replaces those sections only (files in one
commit); an issue
that exists in any state is left alone (a closed preloaded issue is not reopened), a
member with more access keeps it, and labels and issues people added are not looked at.

Upgrade engagements (handbook 001 "Start a customer upgrade engagement"): a project
created by hand before gl-csm has no markers; an issue or milestone whose title is the
template's (case and spacing ignored) counts as present, so `--fix` adds only what is
really missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gl_csm.config import Settings
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Outcome, Plan
from gl_csm.services.collaboration import project_state as collab
from gl_csm.services.collaboration.promote import find_project
from gl_csm.templates import manifest_for


@dataclass
class Verification:
    account: str
    project: str
    template: str
    phase: str
    variant: str  # new | existing: the playbook the project follows (handbook 003)
    drift: list[collab.Drift] = field(default_factory=list)
    plan: Plan = field(default_factory=Plan)


def plan_verify(gateway: Gateway, settings: Settings, slug: str, today: date) -> Verification:
    groups, _ = settings.require_layout("verify")
    account = collab.load_account(settings, slug)
    manifest = manifest_for(collab.manifests_for(settings), account.segment)
    project = find_project(gateway, settings, account)
    actual = collab.read_actual(gateway, project, labels=True)
    phase = collab.phase_of(manifest, account, groups, project["namespace"]["full_path"])
    path = project["path_with_namespace"]
    desired = collab.desired_for(
        manifest,
        account,
        settings,
        today,
        actual,
        phase=phase,
        path=path,
        web_url=project["web_url"],
    )
    result = Verification(slug, path, manifest.name, phase, desired.variant)
    collab.plan_missing(
        result.plan,
        desired,
        actual,
        collab.Users(gateway, account, actual),
        labels=True,
        drift=result.drift,
    )
    # The passages also say where the account stands now (past onboarding, next review,
    # renewal): the daily triage keeps them so; verify finds a project it could not.
    collab.plan_bot_sections(result.plan, gateway, desired, actual, result.drift, passages=True)
    return result


def render_verification(
    result: Verification,
    outcome: Outcome | None,
    fmt: str,
    *,
    dry_run: bool,
    stats: dict[str, int] | None,
) -> str:
    """The drift list; with --fix, also what was (or with --dry-run would be) added."""
    if fmt == "json":
        doc: dict[str, Any] = {
            "account": result.account,
            "project": result.project,
            "template": result.template,
            "phase": result.phase,
            "customer": result.variant,
            "drift": [d.to_json() for d in result.drift],
            "changes": [c.to_json() for c in outcome.changes] if outcome else [],
        }
        if outcome and outcome.failures:
            doc["errors"] = [f.to_json() for f in outcome.failures]
        if stats is not None:
            doc["stats"] = stats
        return json.dumps(doc, indent=2)
    head = (
        f"{result.account}: project {result.project} against the {result.template} "
        f"template ({result.phase}, {result.variant} customer)"
    )
    lines = [head]
    if not result.drift:
        lines.append("  no drift: the project has everything its template asks for")
    else:
        lines.append(f"  {len(result.drift)} difference(s):")
        lines.extend(f"  - {d.kind:<9} {d.item}: {d.detail}" for d in result.drift)
        if outcome is None:
            lines.append(f"  run `gl-csm verify {result.account} --fix` to add what is missing")
    if outcome is not None and result.drift:
        lines.append(outcome.render("text", dry_run=dry_run, stats=None))
    if stats is not None:
        lines.append(
            f"API calls: {stats['reads'] + stats['writes']} "
            f"(reads {stats['reads']}, writes {stats['writes']})"
        )
    return "\n".join(lines)
