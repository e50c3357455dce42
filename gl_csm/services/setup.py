"""`gl-csm setup`: create the label taxonomy of SPEC section 6.

Labels go where the bot uses them: the groups that hold the internal projects (as
group labels, inherited by every project below), or the projects themselves when an
internal project lives in a personal namespace. They are never created on the
customer-facing groups: names like ``health::red`` are internal vocabulary.

The customer-visible labels of the project templates (``project_templates/*/manifest.yml``:
meeting, question, onboarding...) are created once as group labels on the two
collaboration groups (``groups.pre_sales``, ``groups.post_sales``), so that onboarding
a project spends no write on labels and a project keeps them when it is transferred.

Missing labels are created. The taxonomy is configuration: a label setup owns (one of
its names, on the very group or project where setup puts it) that a person recolored or
re-described is restored with one PUT, and the plan says what drifted (a dry run shows
the difference). Labels inherited from an ancestor group are not setup's: left alone.
A second run writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from gl_csm.config import Settings
from gl_csm.domain.taxonomy import LabelDef
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan
from gl_csm.services.boards import plan_boards
from gl_csm.services.guards import require_internal_projects


def _outermost(paths: set[str]) -> list[str]:
    """Drop groups below another one in the set: they inherit its labels."""
    return sorted(p for p in paths if not any(p.startswith(o + "/") for o in paths if o != p))


def plan_setup(gateway: Gateway, settings: Settings) -> Plan:
    _, projects = settings.require_layout("setup")
    internal = require_internal_projects(gateway, projects)
    plan = Plan()
    wanted = settings.taxonomy.definitions()

    groups = {
        p["namespace"]["full_path"] for p in internal.values() if p["namespace"]["kind"] == "group"
    }
    for group in _outermost(groups):
        _plan_missing(plan, gateway, "group", group, wanted)

    _plan_collaboration_labels(plan, gateway, settings)

    personal = sorted(
        p["path_with_namespace"] for p in internal.values() if p["namespace"]["kind"] != "group"
    )
    for project in personal:
        _plan_missing(plan, gateway, "project", project, wanted)
    plan_boards(plan, gateway, settings)
    return plan


def _plan_missing(
    plan: Plan,
    gateway: Gateway,
    kind: str,
    where: str,
    wanted: Iterable[LabelDef],
    *,
    why: str = "",
    customer_visible: bool = False,
) -> None:
    """A create-label change for each wanted label the group or project lacks (labels
    inherited from ancestor groups count: GitLab answers 409 for them anyway)."""
    labels = gateway.labels(kind, where)
    have = {label["name"] for label in labels}
    _plan_drift(plan, gateway, kind, where, wanted, labels, customer_visible=customer_visible)
    for label in wanted:
        if label.name in have:
            continue
        plan.add(
            "create-label",
            f"{kind} {where}",
            f"{label.name} ({label.color}){why}",
            lambda gw, _r, w=where, d=label: gw.create_label(
                kind, w, d.name, d.color, d.description
            ),
            customer_visible=customer_visible,
        )


def label_drift(wanted: LabelDef, actual: dict) -> list[str]:
    """What differs between a wanted label and GitLab's, as "field: was -> wanted" texts.

    Colors compare case-insensitively: GitLab keeps the case it was given.
    """
    out = []
    color = actual.get("color") or ""
    if color.lower() != wanted.color.lower():
        out.append(f"color {color or '(none)'} -> {wanted.color}")
    description = actual.get("description") or ""
    if description != wanted.description:
        out.append(f"description {description!r} -> {wanted.description!r}")
    return out


def _plan_drift(
    plan: Plan,
    gateway: Gateway,
    kind: str,
    where: str,
    wanted: Iterable[LabelDef],
    labels: list[dict],
    *,
    customer_visible: bool,
) -> None:
    """An update-label change for each wanted label, owned here, that a person changed."""
    by_name = {label.name: label for label in wanted}
    drifted = [
        lb for lb in labels if lb["name"] in by_name and label_drift(by_name[lb["name"]], lb)
    ]
    if not drifted:
        return
    # The listing includes ancestor labels; only the group's (or project's) own are setup's.
    # One more read, and only when something drifted.
    if kind == "group":
        own = {lb["id"] for lb in gateway.labels("group", where, inherited=False)}
    else:
        own = {lb["id"] for lb in labels if lb.get("is_project_label")}
    for actual in drifted:
        if actual["id"] not in own:
            continue
        want = by_name[actual["name"]]
        plan.add(
            "update-label",
            f"{kind} {where}",
            f"{want.name}: " + "; ".join(label_drift(want, actual)) + " (restored)",
            lambda gw, _r, w=where, i=actual["id"], d=want: gw.update_label(
                kind, w, i, d.color, d.description
            ),
            customer_visible=customer_visible,
        )


def _plan_collaboration_labels(plan: Plan, gateway: Gateway, settings: Settings) -> None:
    """The project templates' labels on both collaboration groups (module docstring)."""
    from gl_csm.services.collaboration.project_state import manifests_for

    groups, _ = settings.require_layout("setup")
    wanted: dict[str, LabelDef] = {}
    for manifest in manifests_for(settings).values():
        for label in manifest.labels:
            wanted.setdefault(label.name, LabelDef(label.name, label.color, label.description))
    for group in _outermost({groups.pre_sales, groups.post_sales}):
        _plan_missing(
            plan,
            gateway,
            "group",
            group,
            wanted.values(),
            why=" for collaboration projects",
            customer_visible=True,
        )
