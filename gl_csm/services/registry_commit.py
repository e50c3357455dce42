"""Registry edits made in CI are committed, not lost (SPEC 5 Registry write-back).

Onboard, promote, handoff, import (and react/triage, which may promote) edit
``accounts/*.yml`` on disk. In a CI job that disk is a throwaway checkout, so, in a
GitLab CI job (``GITLAB_CI``) with a GitLab configured, or with ``--commit-registry``,
the files the command changed are committed through the API (doc/api/commits.md) to the branch
``gl-csm/registry-updates`` of the ops project (``CI_PROJECT_PATH``, else the config's
``ops_project``), and ONE merge request "gl-csm: registry updates" to the default branch
is opened, or, when it is already open, updated by the new commit. The default branch
is never written: people review and merge (README "Registry changes").

What changed is found by comparing the registry files before and after the command
(:func:`snapshot`), so every writer is covered without each one reporting its edits.
When no merge request is open but the branch is left over (merged, not deleted), the
commit resets it onto the default branch (``force``), so the new MR shows only new edits.
Each job runs on a fresh checkout of the default branch, so an edit is replayed (the
keys it set, through the round-trip editor) on the branch's version of the file: edits
already waiting in the merge request are kept.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gl_csm.config import Settings
from gl_csm.errors import ConfigError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.registry_writeback import edit_text

BRANCH = "gl-csm/registry-updates"
TITLE = "gl-csm: registry updates"
DESCRIPTION = (
    "Registry edits made by gl-csm jobs (onboard, promote, handoff, import: `project:`, "
    "`team.csm`, CRM keys). Each commit says which job made it. Review the diff and merge; "
    "gl-csm adds later edits to this merge request until it is merged, and never commits "
    "to the default branch.\n\n<!-- gl-csm:registry-updates:mr -->"
)


@dataclass(frozen=True)
class Snapshot:
    """The registry files' texts, by path relative to the repository root."""

    root: Path
    accounts_dir: Path
    files: Mapping[str, str]


def wanted(settings: Settings, flag: bool, environ: Mapping[str, str] | None = None) -> bool:
    """``--commit-registry``, or a GitLab CI job (``GITLAB_CI``, which GitLab's runners
    set with ``CI_PROJECT_PATH``; a generic ``CI`` says nothing about which project holds
    the registry) working against a real GitLab: the embedded sandbox holds no ops
    repository, so there only the flag commits."""
    env = os.environ if environ is None else environ
    return flag or (bool(env.get("GITLAB_CI")) and bool(settings.gitlab_url))


def ops_project(settings: Settings, environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    path = env.get("CI_PROJECT_PATH") or settings.ops_project
    if not path:
        raise ConfigError(
            "--commit-registry: which project holds the registry? Set 'ops_project' in "
            f"{settings.where} (in CI, CI_PROJECT_PATH is used)"
        )
    return path


def repository_root(settings: Settings, environ: Mapping[str, str] | None = None) -> Path:
    """Where the ops repository is checked out: CI_PROJECT_DIR in CI, else the folder of
    gl-csm.yml (it lives at the repository's root), else the current directory."""
    env = os.environ if environ is None else environ
    if env.get("CI_PROJECT_DIR"):
        return Path(env["CI_PROJECT_DIR"]).resolve()
    if settings.config_path is not None:
        return settings.config_path.resolve().parent
    return Path.cwd().resolve()


def snapshot(settings: Settings, environ: Mapping[str, str] | None = None) -> Snapshot:
    root = repository_root(settings, environ)
    accounts = settings.accounts_dir.resolve()
    try:
        accounts.relative_to(root)
    except ValueError:
        raise ConfigError(
            f"--commit-registry: the registry {accounts} is not inside the repository at "
            f"{root} (CI_PROJECT_DIR or the folder of gl-csm.yml)"
        ) from None
    return Snapshot(root, accounts, _read(root, accounts))


def _read(root: Path, accounts: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    if accounts.is_dir():
        for path in sorted(accounts.glob("*.yml")):
            if path.is_symlink():
                continue  # refused by the registry loader; never followed into a commit
            try:
                files[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue  # the command that reads it reports it
    return files


@dataclass(frozen=True)
class Edit:
    """One registry file the command created (``old`` None) or changed."""

    old: str | None
    new: str

    def updates(self) -> dict[str, Any]:
        """The keys the command set (``key`` or ``parent.child``, the only edits gl-csm
        makes), so they can be replayed on the branch's version of the file."""
        before = _mapping(self.old)
        after = _mapping(self.new)
        out: dict[str, Any] = {}
        for key, value in after.items():
            old = before.get(key)
            if isinstance(value, dict) and isinstance(old, dict):
                out.update({f"{key}.{k}": v for k, v in value.items() if old.get(k) != v})
            elif key not in before or old != value:
                out[str(key)] = value
        return out

    def replay(self, base: str | None) -> str:
        """This edit applied to ``base`` (the branch's or default branch's text):
        edits already waiting in the merge request are kept."""
        if base is None:
            return self.new
        if self.old is not None and base == self.old:
            return self.new
        return edit_text(base, self.updates())


def _mapping(text: str | None) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def changed(before: Snapshot) -> dict[str, Edit]:
    """Files the command created or changed, by relative path."""
    after = _read(before.root, before.accounts_dir)
    return {p: Edit(before.files.get(p), t) for p, t in after.items() if before.files.get(p) != t}


def commit_registry(
    gateway: Gateway, project_path: str, files: Mapping[str, Edit], job: str
) -> str:
    """Commit ``files`` to :data:`BRANCH` and open or update the one merge request.
    Returns one line saying what happened (for stderr)."""
    project = gateway.project(project_path)
    if project is None:
        raise ConfigError(
            f"--commit-registry: project {project_path} (CI_PROJECT_PATH / ops_project) "
            f"not found at {gateway.url}"
        )
    default = project.get("default_branch")
    if not default or default == BRANCH:
        raise ConfigError(
            f"--commit-registry: {project_path} has no default branch to propose edits to "
            f"(or it is {BRANCH}); gl-csm never commits to the default branch"
        )
    pid = project["id"]
    open_mrs = gateway.merge_requests(pid, state="opened", source_branch=BRANCH)
    mr = next((m for m in open_mrs if m.get("target_branch") == default), None)
    on_branch = mr is not None and gateway.branch(pid, BRANCH) is not None
    ref = BRANCH if on_branch else default
    dropped = None if on_branch else _closed_unmerged(gateway, pid, default)
    actions = []
    for path, edit in sorted(files.items()):
        current = gateway.file_text(pid, path, ref)
        text = edit.replay(current)
        if current == text:
            continue
        action = "create" if current is None else "update"
        actions.append({"action": action, "file_path": path, "content": text})
    if actions:
        digest = hashlib.sha1(
            "".join(f"{a['file_path']}\0{a['content']}" for a in actions).encode()
        ).hexdigest()[:12]
        token = f"gl-csm:registry-commit:{digest}"
        names = ", ".join(a["file_path"] for a in actions)
        message = f"gl-csm {job}: {names}\n\n{token}"
        gateway.commit(
            pid,
            BRANCH,
            message,
            actions,
            token,
            start_branch=None if on_branch else default,
            force=not on_branch and gateway.branch(pid, BRANCH) is not None,
        )
    lost = ""
    if dropped is not None:
        where = dropped.get("web_url") or f"{project_path}!{dropped['iid']}"
        lost = (
            f"; merge request !{dropped['iid']} was closed without merging: its edits, "
            f"left on {BRANCH}, are not in this one (see {where} to redo them)"
        )
    if mr is None:
        if not actions:
            return f"registry edits already on {default} of {project_path}: nothing to commit{lost}"
        description = DESCRIPTION
        if dropped is not None:
            description = (
                f"Merge request !{dropped['iid']} was closed without merging; its edits are "
                f"not in this one (the branch starts again from {default}).\n\n{DESCRIPTION}"
            )
        mr = gateway.create_merge_request(
            pid, BRANCH, default, TITLE, description=description, remove_source_branch=True
        )
        verb = "opened"
    elif not actions:
        where = mr.get("web_url") or f"{project_path}!{mr['iid']}"
        return f"registry: merge request !{mr['iid']} already has these edits: {where}"
    else:
        verb = "updated"
    where = mr.get("web_url") or f"{project_path}!{mr['iid']}"
    return (
        f"registry: {len(actions)} file(s) committed to {BRANCH}; merge request "
        f"!{mr['iid']} {verb}: {where}{lost}"
    )


def _closed_unmerged(gateway: Gateway, pid: int, default: str) -> dict | None:
    """The branch's last merge request when it was closed without merging and the branch
    is still there: resetting the branch drops its edits, which must be said (at most
    three reads, only when no merge request is open)."""
    if gateway.branch(pid, BRANCH) is None:
        return None
    ended = [
        m
        for state in ("closed", "merged")
        for m in gateway.merge_requests(pid, state=state, source_branch=BRANCH)
        if m.get("target_branch") == default
    ]
    last = max(ended, key=lambda m: int(m["iid"]), default=None)
    return last if last is not None and last.get("state") == "closed" else None
