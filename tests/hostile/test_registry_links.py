"""A symbolic link in ``accounts/`` is refused, never followed out of the folder, and
its target is never echoed (into errors, the summary issue or a merge request note)."""

from __future__ import annotations

from pathlib import Path

from gl_csm.registry import load_registry
from gl_csm.services.moves.accounts_import import index_registry
from tests.cli.test_cli_basics import run

TARGET_DIR = "private-notes-of-someone-else-entirely"
ACCOUNT = "name: Linked Corp\nsegment: growth\ncustomer_since: 2025-01-01\n"


def _link(workdir: Path) -> Path:
    outside = workdir.parent / TARGET_DIR
    outside.mkdir(exist_ok=True)
    target = outside / "secret-customer-list.yml"
    target.write_text(ACCOUNT, encoding="utf-8")
    link = workdir / "accounts" / "linked.yml"
    link.symlink_to(target)
    (workdir / "accounts" / "dangling.yml").symlink_to(outside / "gone.yml")
    return link


def test_a_link_is_a_problem_naming_the_file_not_the_target(workdir: Path) -> None:
    _link(workdir)
    registry = load_registry(workdir / "accounts")
    problems = {Path(p.file).name: str(p) for p in registry.problems}
    assert set(problems) == {"linked.yml", "dangling.yml"}
    assert all("expected a regular file, got a symbolic link" in t for t in problems.values())
    assert not any(TARGET_DIR in t or "secret-customer" in t for t in problems.values())
    assert "linked" not in registry.by_slug() and "linked-corp" not in registry.by_slug()
    assert len(registry.accounts) > 5  # the other files load


def test_the_import_does_not_follow_a_link(workdir: Path) -> None:
    _link(workdir)
    index = index_registry(workdir / "accounts")
    assert index.broken["linked"] == "expected a regular file, got a symbolic link"
    assert "linked" not in index.by_slug


def test_the_cli_never_echoes_the_target(workdir: Path) -> None:
    _link(workdir)
    code, out, err = run(workdir, "triage")
    assert code == 1
    assert "linked.yml: expected a regular file, got a symbolic link" in out + err
    assert TARGET_DIR not in out + err and "secret-customer-list" not in out + err
