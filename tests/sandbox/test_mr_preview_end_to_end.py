"""The MR preview against an MR made through the API, as CI would see it.

doc/api/merge_requests.md ("Create MR", "List merge request diffs") and
doc/api/commits.md ("Create a commit"): a branch with a template change, an MR from
it, then `templates preview --mr` (SPEC 5 Template review) reads its diffs, posts one
note, writes nothing on a rerun and updates the note after a later push.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gl_csm.config import Settings
from gl_csm.gitlab.gateway import Gateway
from gl_csm.sandbox import Sandbox
from gl_csm.services.templates_review import plan_mr_preview
from tests.conftest import ROOT, TODAY, templates_copied_into
from tests.sandbox.conftest import Http

PROJECT = "customer-success/accounts"
P = "/projects/customer-success%2Faccounts"


@pytest.fixture
def templates(workdir: Path) -> Any:
    yield from templates_copied_into(workdir)


def _commit(http: Http, branch: str, action: str, path: str, text: str, **extra: Any) -> None:
    r = http.post(
        f"{P}/repository/commits",
        json={
            "branch": branch,
            "commit_message": f"{action} {path}",
            "actions": [{"action": action, "file_path": path, "content": text}],
            **extra,
        },
    )
    assert r.status_code == 201, r.text


def test_preview_of_an_api_made_merge_request(
    templates: Path, sandbox: Sandbox, gateway: Gateway, settings: Settings
) -> None:
    http = Http(sandbox)
    readme = "project_templates/enterprise/README.md.j2"
    original = (ROOT / readme).read_text()
    _commit(http, "main", "create", readme, original)
    _commit(http, "tpl", "update", readme, original + "\nOne more line.\n", start_branch="main")
    mr = http.post(
        f"{P}/merge_requests",
        json={"source_branch": "tpl", "target_branch": "main", "title": "Template change"},
    )
    assert mr.status_code == 201, mr.text
    iid = mr.json()["iid"]

    def run() -> list[str]:
        outcome = plan_mr_preview(gateway, settings, TODAY, PROJECT, iid).apply(gateway)
        assert outcome.exit_code == 0, outcome.failures
        return [c.action for c in outcome.changes]

    assert run() == ["create-note"]
    assert run() == []
    # A later push to the MR's branch changes its diffs: the note is updated in place.
    other = "project_templates/commercial/README.md.j2"
    _commit(http, "tpl", "create", other, (ROOT / other).read_text() + "\nAlso here.\n")
    assert run() == ["update-note"]
    notes = http.get(f"{P}/merge_requests/{iid}/notes").json()
    assert len([n for n in notes if not n["system"]]) == 1
