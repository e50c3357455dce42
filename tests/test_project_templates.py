"""Project templates (SPEC 5): manifests, rendering for every sample account, the
allow-listed render context (SPEC 1), and the registry write-back."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gl_csm.config import Settings
from gl_csm.domain.account import SEGMENTS
from gl_csm.registry import load_registry
from gl_csm.registry_writeback import current_value, with_project, write_project_path
from gl_csm.services.collaboration.project_state import desired_state
from gl_csm.services.templates_review import check_templates, preview
from gl_csm.templates import (
    COLLABORATION_FIELDS,
    ManifestError,
    collaboration_context,
    load_manifest,
    load_manifests,
    manifest_for,
    templates_root,
)
from tests.conftest import ROOT, TODAY

TEMPLATES = ROOT / "project_templates"
#: Account facts that must never reach a customer-visible project (SPEC 1).
INTERNAL = {
    "arr",
    "priority",
    "health",
    "risk",
    "sentiment",
    "nps",
    "seats",
    "usage",
    "exception",
    "opportunities",
    "renewal_date",
    "success_plan",
    "engagement",
    "support",
    "champion_left",
    "key_logo",
    "growth_intent",
    "lifecycle",
    "stages_adopted",
    "segment",
    "version",
    "channel_engaged",
    "onboarding_completed",
    "public_sector",
    "digital",
    "parent",
    "managed",
}


def _keys_and_values(value: Any, out: list) -> list:
    if isinstance(value, dict):
        for k, v in value.items():
            out.append(("key", k))
            _keys_and_values(v, out)
    elif isinstance(value, list | tuple):
        for v in value:
            _keys_and_values(v, out)
    else:
        out.append(("value", value))
    return out


def test_manifests_cover_every_segment() -> None:
    manifests = load_manifests(TEMPLATES)
    assert set(manifests) == {"enterprise", "commercial"}
    for segment in SEGMENTS:
        manifest_for(manifests, segment)
    assert manifest_for(manifests, "commercial").phases == ("post-sales",)
    assert manifest_for(manifests, "strategic").phases == ("pre-sales", "post-sales")
    assert templates_root() == TEMPLATES


def test_enterprise_and_commercial_differ_where_the_handbook_says() -> None:
    manifests = load_manifests(TEMPLATES)
    ent, com = manifests["enterprise"], manifests["commercial"]
    assert ent.milestone("poc") is not None and com.milestone("poc") is None
    assert [i.key for i in ent.issues_for("pre-sales")] == ["welcome-call", "poc"]
    assert {m.role: m.access for m in ent.members_for("pre-sales")} == {
        "sa": "maintainer",
        "ae": "maintainer",
        "pse": "developer",
        "csm": "reporter",
    }
    assert {m.role: m.access for m in com.members_for("post-sales")}["csm"] == "owner"
    for manifest in (ent, com):
        keys = {i.key for i in manifest.issues}
        assert {"welcome-call", "kickoff", "success-plan", "onboarding-checklist"} <= keys
        assert {m.key for m in manifest.milestones} >= {
            "onboarding",
            "infrastructure-ready",
            "first-value",
            "ebr",
            "outcome-achieved",
        }
        assert manifest.milestone("ebr").due.months == 6
        # handbook 004 "Outcome Achieved": delivery of the original purchase intent,
        # measured on this milestone closed (domain/evidence.py MILESTONE_KPIS).
        outcome = manifest.milestone("outcome-achieved")
        assert outcome.phase == "post-sales" and outcome.due.months == 9
        assert outcome.customers == "new"


def test_templates_check_passes_for_every_sample_account(settings: Settings) -> None:
    result = check_templates(settings, TODAY)
    assert result.ok, result.problems
    assert result.accounts == len(load_registry(settings.accounts_dir).accounts)
    # enterprise: 2 phases, commercial: 1, for every account; post-sales as a new and as
    # an existing customer (handbook 003)
    assert result.renders == 5 * result.accounts


def test_render_context_holds_no_internal_fact(settings: Settings) -> None:
    """SPEC 1, for every sample account and every template/phase: the context of a
    customer-visible file does not even contain the internal facts, and no rendered
    text shows the ARR."""
    manifests = load_manifests(TEMPLATES)
    for account in load_registry(settings.accounts_dir).accounts:
        for manifest in manifests.values():
            for phase in manifest.phases:
                context = collaboration_context(
                    account,
                    manifest=manifest,
                    phase=phase,
                    project_path="g/p",
                    project_url="https://x/g/p",
                    start=date(2026, 11, 23),
                    dates={},
                )
                seen = _keys_and_values(context, [])
                assert set(context["customer"]) == set(COLLABORATION_FIELDS)
                assert not INTERNAL & {v for kind, v in seen if kind == "key"}, account.slug
                values = {v for kind, v in seen if kind == "value"}
                if account.arr:
                    assert account.arr not in values and int(account.arr) not in values
                desired = desired_state(
                    manifest,
                    account,
                    settings,
                    TODAY,
                    phase=phase,
                    path="g/p",
                    web_url="https://x/g/p",
                )
                texts = list(desired.files.values()) + [i.description for i in desired.issues]
                for text in texts:
                    if account.arr:
                        assert f"{account.arr:,.0f}" not in text
                        assert str(int(account.arr)) not in text
                    assert "priority::" not in text and "health::" not in text


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "project_templates"
    shutil.copytree(TEMPLATES, root)
    return root


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    milestone: poc\n", "    milestone: nope\n", "key 'issues[1].milestone'"),
        ("labels: [proof of concept]", "labels: [proof-of-concept]", "key 'issues[1].labels[0]'"),
        (
            "phase: pre-sales\n    due: {days: 45}",
            "phase: later\n    due: {days: 45}",
            "key 'milestones[0].phase'",
        ),
        ("due: {days: 45}", "due: {weeks: 6}", "unknown key 'milestones[0].due.weeks'"),
        ("    csm: reporter", "    csm: boss", "key 'members.pre-sales.csm'"),
        (
            "template: issues/poc.md.j2",
            "template: issues/missing.md.j2",
            "key 'issues[1].template'",
        ),
        ("name: meeting,", 'name: "health::red",', "key 'labels[0].name'"),
        ("title: Enterprise", "tittle: Enterprise", "unknown key 'tittle'"),
        # Which customers an item is for (handbook 003: new or existing customer).
        ("    customers: new\n", "    customers: old\n", "key 'milestones[1].customers'"),
        ("due: next-ebr", "due: next-qbr", "key 'milestones[7].due'"),
        (
            "    milestone: success-plan-review\n",
            "    milestone: onboarding\n",
            "key 'issues[6].milestone': expected a milestone for existing customers",
        ),
    ],
)
def test_bad_manifest_names_file_and_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    root = _copy(tmp_path)
    manifest = root / "enterprise" / "manifest.yml"
    text = manifest.read_text()
    assert old in text
    manifest.write_text(text.replace(old, new, 1))
    with pytest.raises(ManifestError) as info:
        load_manifest(root / "enterprise")
    assert str(manifest) in str(info.value) and message in str(info.value)


def test_undefined_variable_fails_the_check(tmp_path: Path, settings: Settings) -> None:
    root = _copy(tmp_path)
    readme = root / "commercial" / "README.md.j2"
    readme.write_text(readme.read_text() + "\n{{ customer.arr }}\n")
    # The workdir (tmp_path) holds the config: its project_templates/ wins.
    result = check_templates(settings, TODAY)
    assert not result.ok
    assert any("commercial/README.md.j2" in p and "arr" in p for p in result.problems)


def test_check_renders_both_playbooks_whatever_the_sample_accounts_are(
    tmp_path: Path, settings: Settings
) -> None:
    """Every commercial sample account is an existing customer today; a broken
    new-customer item (the Welcome call) is still found, and so is an existing-customer
    one in a template whose samples are new."""
    root = _copy(tmp_path)
    welcome = root / "commercial" / "issues" / "welcome-call.md.j2"
    welcome.write_text(welcome.read_text() + "\n{{ customer.arr }}\n")
    review = root / "enterprise" / "issues" / "success-plan-review.md.j2"
    review.write_text(review.read_text() + "\n{{ customer.health }}\n")
    result = check_templates(settings, TODAY)
    assert any(
        p.startswith("commercial (post-sales) for soylent") and "welcome-call" in p
        for p in result.problems
    ), result.problems
    assert any(
        p.startswith("enterprise (post-sales, existing customer) for wayne-enterprises")
        for p in result.problems
    ), result.problems


def test_quick_action_labels_must_exist(tmp_path: Path, settings: Settings) -> None:
    root = _copy(tmp_path)
    question = root / "enterprise" / "issue_templates" / "Question.md.j2"
    question.write_text(question.read_text().replace("/label ~question", "/label ~questions"))
    # The workdir (tmp_path) holds the config: its project_templates/ wins.
    result = check_templates(settings, TODAY)
    assert any("~questions" in p for p in result.problems)


def test_segment_served_twice_is_an_error(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    manifest = root / "commercial" / "manifest.yml"
    manifest.write_text(
        manifest.read_text().replace("segments: [commercial]", "segments: [commercial, scale]")
    )
    with pytest.raises(ManifestError, match="segment 'scale' is already served"):
        load_manifests(root)


def test_preview_renders_one_account(settings: Settings) -> None:
    text = preview(settings, "tyrell", TODAY)
    assert "# Preview: account-management/pre-sales/tyrell (enterprise template, pre-sales)" in text
    assert "## File README.md" in text and "Proof of concept" in text


# ---------------------------------------------------------------- registry write-back


def test_write_back_replaces_only_the_project_line(tmp_path: Path) -> None:
    path = tmp_path / "a.yml"
    text = "# keep me\nname: A\nproject: null  # set by onboard\n\nteam:\n  csm: x\n"
    path.write_text(text)
    assert write_project_path(path, "g/a") is True
    assert path.read_text() == text.replace("project: null", "project: g/a")
    assert write_project_path(path, "g/a") is False
    assert current_value(path.read_text()) == "g/a"


def test_write_back_appends_when_absent_and_ignores_nested_keys() -> None:
    assert with_project("name: A\nteam:\n  project: x", "g/a") == (
        "name: A\nteam:\n  project: x\nproject: g/a\n"
    )
    assert with_project("name: A\r\nproject: old\r\n", "g/b") == "name: A\r\nproject: g/b\r\n"
    with pytest.raises(ValueError):
        with_project("name: A\n", "g/a\nevil: 1")
