"""Build what a command runs with: settings, today, and a gateway to GitLab or the sandbox.

With no GitLab configured (no ``--gitlab-url``, ``GITLAB_URL``, ``CI_SERVER_URL`` or
``gitlab_url``), commands run against the built-in sandbox persisted at ``--sandbox``
(default ``.gl-csm/sandbox.json``) and say so on stderr (SPEC 7). The sandbox is seeded,
when missing, with the groups and projects the config names and a user for every
username in the config and the registry, as ``gl-csm sandbox serve`` does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from gitlab.const import AccessLevel

from gl_csm.config import Settings
from gl_csm.errors import ConfigError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.sandbox import Sandbox, SandboxAdapter
from gl_csm.sandbox.editions import SEARCH_MODES
from gl_csm.state_lock import StateLock

DEFAULT_SANDBOX = Path(".gl-csm/sandbox.json")
INTERNAL_MEMBER_LEVEL = AccessLevel.DEVELOPER


@dataclass
class Runtime:
    """One command's world; :meth:`close` persists the embedded sandbox."""

    settings: Settings
    today: date
    gateway: Gateway
    sandbox: Sandbox | None = None
    #: False for a dry run: the embedded sandbox file is not written (not even created).
    persist: bool = True
    #: The embedded sandbox's state-file lock, held until close (gl_csm/state_lock.py).
    lock: StateLock | None = None

    def close(self) -> None:
        self.gateway.close()
        try:
            if self.sandbox is not None and self.persist:
                self.sandbox.save()
        finally:
            if self.lock is not None:
                self.lock.release()


def pace_limits(settings: Settings) -> dict[str, int]:
    """Writes per minute by kind, from ``rules.pacing`` (0 = unpaced)."""
    pace = settings.rules.pacing
    return {"issues": pace.issues_per_minute, "notes": pace.notes_per_minute}


def registry_usernames(accounts_dir: Path) -> set[str]:
    """Usernames of every account team, read leniently (bad files are skipped here;
    the command that loads the registry reports them)."""
    from gl_csm.registry import load_registry

    if not accounts_dir.is_dir():
        return set()
    names: set[str] = set()
    for account in load_registry(accounts_dir).accounts:
        team = account.team
        names.update(n for n in (team.csm, team.sa, team.ae, team.pse) if n)
    return names


def seed_sandbox(sandbox: Sandbox, settings: Settings, extra_users: Iterable[str] = ()) -> None:
    """Create, when missing, what the config names (SPEC 7, `sandbox serve`)."""
    groups = [settings.groups.pre_sales, settings.groups.post_sales] if settings.groups else []
    projects = (
        [(path, "private") for _, path in settings.projects.items()] if settings.projects else []
    )
    users = set(settings.people.usernames()) | registry_usernames(settings.accounts_dir)
    users.update(extra_users)
    # The CS team works in the internal projects, as an administrator would have set up
    # on GitLab: the private projects are readable by them, so the bot may assign them
    # (GitLab drops assignees who cannot read the project).
    members = [(path, name, INTERNAL_MEMBER_LEVEL) for path, _ in projects for name in users]
    sandbox.seed(groups=groups, projects=projects, users=sorted(users), members=members)


def sandbox_clock(today: date) -> Callable[[], datetime]:
    """The embedded sandbox's clock: `--today` at the current time of day, so notes and
    issues it stamps agree with the date rules (an at-risk update written "today")."""

    def now() -> datetime:
        return datetime.combine(today, datetime.now(UTC).timetz())

    return now


def load_sandbox(
    path: Path, today: date, *, edition: str = "free", search: str = "fulltext"
) -> Sandbox:
    """The sandbox at ``path``, as strict as GitLab ``edition`` (Free by default)."""
    try:
        return Sandbox.load(path, clock=sandbox_clock(today), edition=edition, search=search)
    except ValueError as exc:
        raise ConfigError(
            f"--sandbox {path}: not a gl-csm sandbox state file ({exc}); move it away to "
            f"start an empty sandbox"
        ) from None


def _stderr_notice(message: str) -> None:
    """Retries and waits said on stderr as they happen (stdout stays the result)."""
    import click

    click.echo(f"gl-csm: {message}", err=True)


def open_runtime(
    settings: Settings,
    today: date,
    sandbox_path: Path,
    *,
    notice: bool = True,
    persist: bool = True,
    probe: bool = True,
) -> Runtime:
    """``persist=False`` (dry runs) never writes the sandbox file; ``probe`` checks once
    that GitLab answers and takes the token before anything is done (exit 2 if not)."""
    if settings.gitlab_url:
        token = settings.require_token()
        gateway = Gateway.connect(
            settings.gitlab_url,
            token,
            pace=pace_limits(settings),
            read_workers=settings.rules.pacing.read_workers,
            deadline=settings.rules.pacing.request_deadline_seconds,
        )
        gateway.retry_notices.notify = _stderr_notice
        if probe:
            try:
                gateway.check_connection()
            except BaseException:
                gateway.close()
                raise
        return Runtime(settings, today, gateway)
    if notice:
        import click

        click.echo(
            f"gl-csm: no GitLab configured; using the built-in sandbox at {sandbox_path} "
            f"(set --gitlab-url or GITLAB_URL to use a real GitLab)",
            err=True,
        )
    # The embedded sandbox is the GitLab tier the config says the bot runs on;
    # GL_CSM_SANDBOX_SEARCH=none|ilike changes its issue search (`sandbox serve --search`).
    search = os.environ.get("GL_CSM_SANDBOX_SEARCH", "fulltext")
    if search not in SEARCH_MODES:
        raise ConfigError(
            f"GL_CSM_SANDBOX_SEARCH: expected one of {', '.join(SEARCH_MODES)}, got {search!r}"
        )
    # One writer per state file; a dry run on a file that does not exist yet touches
    # nothing, not even a lock file.
    lock = lock_state(sandbox_path) if persist or sandbox_path.exists() else None
    try:
        sandbox = load_sandbox(sandbox_path, today, edition=settings.gitlab_edition, search=search)
        seed_sandbox(sandbox, settings)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    # The sandbox has no rate limit: pacing would only slow tests and demos down.
    gateway = Gateway.for_transport(SandboxAdapter(sandbox))
    return Runtime(settings, today, gateway, sandbox, persist=persist, lock=lock)


def lock_state(path: Path) -> StateLock:
    """Hold ``path``'s lock, or refuse (exit 2) naming the process that holds it."""
    import click

    names: list[str] = []
    ctx = click.get_current_context(silent=True)
    while ctx is not None and ctx.parent is not None:  # `python -m gl_csm` names itself
        names.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    return StateLock(path, f"`gl-csm {' '.join(names)}`".replace(" `", "`")).acquire()
