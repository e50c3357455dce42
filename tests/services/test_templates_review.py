"""Template review in merge requests (SPEC 5 Template review): `gl-csm templates preview
--mr IID` posts ONE note with the rendered preview of the changed templates, updates it
in place on later pushes, writes nothing on a rerun, and exits 1 naming a broken one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.gitlab.gateway import Gateway
from gl_csm.runtime import load_sandbox, seed_sandbox
from gl_csm.sandbox import Sandbox
from gl_csm.services import templates_review
from gl_csm.services.templates_review import (
    PREVIEW_KIND,
    changed_templates,
    check_internal_templates,
    plan_mr_preview,
)
from gl_csm.templates import _template_source
from tests.cli.test_cli_basics import run
from tests.conftest import TODAY, templates_copied_into

PROJECT = "customer-success/accounts"
README = "project_templates/enterprise/README.md.j2"


@pytest.fixture(autouse=True)
def templates_in_workdir(workdir: Path) -> Path:
    """The CS-ops repository's working tree (the MR head in CI) holds the templates."""
    yield from templates_copied_into(workdir)


def _mr(sandbox: Sandbox, *paths: str) -> int:
    mr = sandbox.create_merge_request(PROJECT, changes=[{"new_path": p} for p in paths])
    return int(mr["iid"])


def _notes(gateway: Gateway, iid: int) -> list[dict]:
    notes = gateway.notes(PROJECT, iid, kind="merge_requests")
    return [n for n in notes if markers.has_marker(n["body"], PREVIEW_KIND, f"mr-{iid}")]


def _run(gateway: Gateway, settings: Settings, iid: int) -> tuple[list[str], int]:
    outcome = plan_mr_preview(gateway, settings, TODAY, PROJECT, iid).apply(gateway)
    return [c.action for c in outcome.changes], outcome.exit_code


def test_changed_templates_keeps_only_template_folders() -> None:
    diffs = [
        {"new_path": README},
        {"new_path": "README.md"},
        {"old_path": "issue_templates/triage_red.md.j2", "new_path": "issue_templates/x.md.j2"},
        {"new_path": "issue_templates/gone.md.j2", "deleted_file": True},
    ]
    assert changed_templates(diffs) == [
        ("issue_templates/gone.md.j2", True),
        ("issue_templates/x.md.j2", False),
        (README, False),
    ]


def test_note_created_once_then_rerun_writes_nothing(
    gateway: Gateway, sandbox: Sandbox, settings: Settings
) -> None:
    iid = _mr(sandbox, README)
    assert _run(gateway, settings, iid) == (["create-note"], 0)
    (note,) = _notes(gateway, iid)
    body = note["body"]
    # One <details> per segment the template serves (sample accounts), and phase.
    for segment in ("strategic", "growth", "scale"):
        assert f"{segment} (" in body
    assert body.count("<details>") == 6 and "file README.md" in body
    # Rendered issue bodies carry bot markers: inside the note they must not count.
    assert markers.markers_in(body) == [(PREVIEW_KIND, f"mr-{iid}")]
    assert len(body) <= templates_review.NOTE_LIMIT

    before = gateway.stats.writes
    assert _run(gateway, settings, iid) == ([], 0)
    assert gateway.stats.writes == before


def test_later_push_updates_the_note_in_place(
    gateway: Gateway, sandbox: Sandbox, settings: Settings, workdir: Path
) -> None:
    iid = _mr(sandbox, README)
    _run(gateway, settings, iid)
    readme = workdir / README
    readme.write_text(readme.read_text() + "\nA line added in a later push.\n")
    _template_source.cache_clear()
    assert _run(gateway, settings, iid) == (["update-note"], 0)
    (note,) = _notes(gateway, iid)
    assert "A line added in a later push." in note["body"]
    assert _run(gateway, settings, iid) == ([], 0)


def test_no_template_changed_means_no_note(
    gateway: Gateway, sandbox: Sandbox, settings: Settings
) -> None:
    iid = _mr(sandbox, "README.md")
    plan = plan_mr_preview(gateway, settings, TODAY, PROJECT, iid)
    assert plan.changes == [] and not plan.failures
    assert any("changes no template" in n for n in plan.notes)


def test_broken_template_exits_1_and_the_note_says_which(
    gateway: Gateway, sandbox: Sandbox, settings: Settings, workdir: Path
) -> None:
    readme = workdir / README
    readme.write_text(readme.read_text() + "\n{{ customer.arr }}\n")
    iid = _mr(sandbox, README)
    actions, code = _run(gateway, settings, iid)
    assert actions == ["create-note"] and code == 1
    (note,) = _notes(gateway, iid)
    assert "`gl-csm templates check` failed" in note["body"]
    assert "enterprise/README.md.j2" in note["body"] and "does not render" in note["body"]


def test_internal_template_shown_as_source_and_syntax_checked(
    gateway: Gateway, sandbox: Sandbox, settings: Settings, workdir: Path
) -> None:
    path = "issue_templates/triage_red.md.j2"
    iid = _mr(sandbox, path)
    assert _run(gateway, settings, iid) == (["create-note"], 0)
    assert "internal template (source)" in _notes(gateway, iid)[0]["body"]

    (workdir / path).write_text("{% if %}\n")
    assert any("triage_red.md.j2:1" in p for p in check_internal_templates(workdir))
    assert _run(gateway, settings, iid) == (["update-note"], 1)


def test_long_preview_is_truncated_with_a_message(
    gateway: Gateway, sandbox: Sandbox, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(templates_review, "NOTE_LIMIT", 5000)
    iid = _mr(sandbox, "project_templates/enterprise/manifest.yml")
    _run(gateway, settings, iid)
    body = _notes(gateway, iid)[0]["body"]
    assert len(body) <= 5000 and "**Preview truncated**" in body


def test_cli_mr_preview_from_ci_variables(workdir: Path) -> None:
    sb = load_sandbox(workdir / "sb.json", TODAY)
    from gl_csm.config import load_settings

    seed_sandbox(sb, load_settings(workdir / "gl-csm.yml", environ={}))
    iid = int(sb.create_merge_request(PROJECT, changes=[{"new_path": README}])["iid"])
    sb.save()
    env = {"CI_MERGE_REQUEST_IID": str(iid), "CI_MERGE_REQUEST_PROJECT_PATH": PROJECT}
    day = TODAY.isoformat()

    code, out, err = run(
        workdir,
        "--today",
        day,
        "templates",
        "preview",
        "--dry-run",
        "--format",
        "json",
        "--stats",
        env=env,
    )
    assert code == 0, err
    doc = json.loads(out)
    assert [c["action"] for c in doc["changes"]] == ["create-note"]
    assert doc["stats"]["writes"] == 0

    code, out, err = run(
        workdir,
        "--today",
        day,
        "templates",
        "preview",
        "--mr",
        str(iid),
        "--project",
        PROJECT,
        "--stats",
        env=env,
    )
    assert code == 0, err
    code, out, _ = run(workdir, "--today", day, "templates", "preview", "--stats", env=env)
    assert code == 0 and "Nothing to change." in out and "writes 0" in out


def test_cli_preview_needs_account_or_mr(workdir: Path) -> None:
    code, _, err = run(workdir, "templates", "preview", env={"CI_MERGE_REQUEST_IID": ""})
    assert code == 2 and "--mr IID" in err
    code, _, err = run(workdir, "templates", "preview", "tyrell", "--mr", "1")
    assert code == 2 and "not both" in err


def test_check_cli_fails_on_a_broken_internal_template(workdir: Path) -> None:
    assert run(workdir, "templates", "check")[0] == 0
    (workdir / "issue_templates" / "playbooks.yml").write_text("a: [\n")
    code, out, _ = run(workdir, "templates", "check")
    assert code == 1 and "issue_templates/playbooks.yml: not valid YAML" in out


def test_shipped_playbooks_follow_their_schema() -> None:
    """Every playbook text is a string (an unquoted ': ' in a list item
    is a YAML mapping, which a triage issue printed as a Python dict)."""
    from gl_csm.services.tracking import ISSUE_TEMPLATES
    from gl_csm.services.triage.playbooks import check_file, playbooks

    assert check_file(ISSUE_TEMPLATES / "playbooks.yml") == []
    for playbook in playbooks()["types"].values():
        assert all(isinstance(m, str) for m in playbook["mitigations"])


def test_check_validates_playbooks_against_the_schema(workdir: Path) -> None:
    """`templates check` names the file and key of a non-string entry,
    and an unknown risk type."""

    from gl_csm.services.tracking import ISSUE_TEMPLATES

    shutil.copytree(ISSUE_TEMPLATES, workdir / "issue_templates", dirs_exist_ok=True)
    path = workdir / "issue_templates" / "playbooks.yml"
    text = path.read_text()
    bad = text.replace(
        '      - "For a loss of champion, the CSM and their sales counterpart proactively seek '
        "out and establish new champions: identify who is replacing the champion and "
        'cultivate that relationship."',
        "      - For a loss of champion, seek out new champions: identify who replaces them.",
    ).replace("  roi:\n", "  return-on-investment:\n")
    assert bad != text
    path.write_text(bad)
    code, out, _ = run(workdir, "templates", "check")
    assert code == 1
    assert "key 'types.engagement-champion.mitigations[1]': expected a string" in out
    assert "expected a risk type of SPEC 6.1; got 'return-on-investment'" in out
