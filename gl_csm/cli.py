"""The `gl-csm` command line (SPEC section 7): parse, build the context, call a service, print.

Errors a user can cause (bad config, bad registry, GitLab refusing something) are
printed as one line on stderr with the exit code of SPEC 7 (1 some accounts failed,
2 bad usage or config), never as a stack trace.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from gl_csm import __version__
from gl_csm.config import DEFAULT_CONFIG, Settings, load_settings
from gl_csm.errors import ConfigError, GlCsmError, UsageError
from gl_csm.plan import Outcome, Plan, dry_run_outcome
from gl_csm.runtime import DEFAULT_SANDBOX, Runtime, open_runtime
from gl_csm.urls import redact_url

#: Commands that never open a GitLab connection (SPEC 7): no URL, no token needed.
NO_GITLAB = frozenset(
    {"assess", "templates check", "accounts import", "sandbox serve", "demo", "init"}
)
#: Commands that run without a gl-csm.yml: they need no groups or projects (SPEC 7:
#: `assess` reads accounts/ alone; `templates check` and `accounts import` the registry).
CONFIG_OPTIONAL = frozenset(
    {"assess", "templates check", "accounts import", "sandbox serve", "demo", "init"}
)
#: The README section that documents each command (default: "Commands").
README_SECTION = {
    "doctor": "Preflight: gl-csm doctor",
    "demo": "Quick start",
    "init": "Run it for your team",
    "accounts import": "Registry changes",
    "triage": "In CI",
    "report": "In CI",
    "react": "In CI",
    "serve": "Webhook server",
    "sandbox serve": "Sandbox strictness",
}
_UNREACHABLE = "or GitLab unreachable or refusing the token (checked first; nothing done)"
_CHANGES_FAILED = (
    "1 a change failed (named; the rest is done, a rerun finishes it); "
    f"2 bad usage or config, {_UNREACHABLE}"
)
#: Each command's own exit codes (SPEC 7), as its --help states them.
EXIT_CODES = {
    "assess": "0 done; 1 a registry file could not be read (each named, the rest shown); "
    "2 bad usage or config.",
    "doctor": "0 every check holds; 2 a check failed (each printed with its fix), or bad "
    "usage or config.",
    "demo": "0 done; 1 some accounts failed (each named); 2 bad usage.",
    "init": "0 written, or already there (nothing is overwritten); 2 bad usage: DIR is a "
    "file, or holds a file init would write with other content.",
    "setup": f"0 done; {_CHANGES_FAILED}.",
    "onboard": f"0 done, or nothing to do; {_CHANGES_FAILED}.",
    "promote": f"0 done, or nothing to do; {_CHANGES_FAILED}.",
    "verify": f"0 nothing missing, or --fix added it; {_CHANGES_FAILED}.",
    "handoff": f"0 done, or nothing to do; {_CHANGES_FAILED}.",
    "disengage": f"0 done, or nothing to do; {_CHANGES_FAILED}.",
    "will-churn": f"0 done, or nothing to do; {_CHANGES_FAILED}.",
    "triage": "0 done; 1 some accounts failed (the rest done, each failure named); "
    f"2 bad usage or config, {_UNREACHABLE}.",
    "report": "0 report written; 1 a shard result was missing, empty or broken (the "
    "report, summary issue and dashboard are still written and name it), or the summary "
    f"issue could not be written; 2 bad usage or config, {_UNREACHABLE}.",
    "react": "0 done, or nothing to do (the reason is printed); 1 a change failed (named); "
    f"2 a malformed payload, bad usage or config, {_UNREACHABLE}.",
    "serve": "0 stopped (Ctrl-C or SIGTERM); 2 bad usage or config: no "
    "GL_CSM_WEBHOOK_SECRET, the port in use. A payload that fails is answered and logged, "
    "not an exit.",
    "sandbox serve": "0 stopped (Ctrl-C or SIGTERM, state saved); 2 bad usage: the port in "
    "use, the state file held by another process or not a sandbox.",
    "templates check": "0 every template is valid; 1 a template has a problem (each named); "
    "2 bad usage or config.",
    "templates preview": "0 done; 1 `templates check` failed (the MR note says which) or "
    f"the note could not be written; 2 bad usage or config, {_UNREACHABLE} (--mr).",
    "accounts import": "0 done; 1 a row failed (named with its CSV line and column; the "
    "good rows still go) or the registry commit failed; 2 bad usage or config.",
}
_INTERRUPTED = "130 interrupted (Ctrl-C): what was done is said; rerun to finish."


def _help_epilog(ctx: click.Context, formatter: click.HelpFormatter) -> None:
    """The token, the command's own exit codes and README section, at the end of every
    --help."""
    name = ctx.command_path.split(" ", 1)[1] if " " in ctx.command_path else ""
    if name in NO_GITLAB:
        token = "Needs no GitLab: no URL and no GITLAB_TOKEN."
    elif name == "templates preview":
        token = "ACCOUNT needs no GitLab; --mr needs GITLAB_TOKEN (environment only)."
    else:
        token = (
            "GitLab: --gitlab-url / GITLAB_URL / CI_SERVER_URL, token from the "
            "GITLAB_TOKEN environment variable only (never a flag, never printed); "
            "none set: the built-in sandbox (--sandbox)."
        )
    codes = EXIT_CODES.get(name)
    exits = (
        f"Exit codes: {codes} {_INTERRUPTED}"
        if codes
        else "Exit codes: each command's --help states its own."
    )
    section = README_SECTION.get(name, "Commands")
    for text in (token, exits, f'Documentation: README.md, section "{section}".'):
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(text)


class _Command(click.Command):
    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        _help_epilog(ctx, formatter)


class _Group(click.Group):
    """Turns our errors into one clear message and the SPEC's exit code."""

    command_class = _Command
    group_class = type  # subgroups are _Group too, so their commands get the epilog

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        _help_epilog(ctx, formatter)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GlCsmError as exc:
            click.echo(f"gl-csm: error: {redact_url(str(exc))}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            # Not click's bare "Aborted!" (exit 1, read as "some accounts failed"): say
            # what was done; the runtime's `finally` has saved the embedded sandbox.
            app = ctx.find_object(AppContext)
            click.echo(f"\ngl-csm: {interrupted(app)}", err=True)
            ctx.exit(INTERRUPTED)


#: The shell's code for a process ended by SIGINT (128 + 2).
INTERRUPTED = 130


def interrupted(app: AppContext | None) -> str:
    """What an interrupted command had done, and what to do next."""
    runtime = app.last_runtime if app is not None else None
    if runtime is None:
        return "interrupted (Ctrl-C); nothing was written"
    writes = runtime.gateway.stats.writes
    where = "the sandbox" if runtime.sandbox is not None else "GitLab"
    if not writes:
        return f"interrupted (Ctrl-C); nothing was written to {where}"
    return (
        f"interrupted (Ctrl-C) after {writes} write(s) to {where}; rerun the same command "
        f"to finish: what was done is found again (by its hidden marker) and not repeated"
    )


@dataclass
class AppContext:
    config_path: Path
    config_explicit: bool
    gitlab_url: str | None
    sandbox_path: Path
    today: date
    _settings: Settings | None = None
    commit_registry: bool = False
    #: The runtime the command opened last: what an interrupted run had written.
    last_runtime: Runtime | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._require_config()
            self._settings = load_settings(
                self.config_path, explicit=self.config_explicit, gitlab_url=self.gitlab_url
            )
        return self._settings

    def _require_config(self) -> None:
        """A command that needs the layout, run where there is no gl-csm.yml (a new
        directory, the wrong one): say that, not which key of an absent file is missing."""
        ctx = click.get_current_context(silent=True)
        name = ctx.command_path.partition(" ")[2] if ctx is not None else ""
        if self.config_explicit or name in CONFIG_OPTIONAL or self.config_path.is_file():
            return
        raise ConfigError(
            f"no {self.config_path} here ({Path.cwd()}): run gl-csm in the team's repository, "
            f"give --config PATH, or create one with `gl-csm init`"
        )

    def runtime(self, *, dry_run: bool = False) -> Runtime:
        # A dry run writes nothing, not even a new sandbox state file.
        self.last_runtime = open_runtime(
            self.settings, self.today, self.sandbox_path, persist=not dry_run
        )
        return self.last_runtime


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date:
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date YYYY-MM-DD, got {value!r}") from None


@click.group(cls=_Group)
@click.option(
    "--config",
    "config_path",
    default=None,
    metavar="PATH",
    help=f"Config file (default {DEFAULT_CONFIG}; optional for `assess`).",
)
@click.option("--gitlab-url", default=None, help="GitLab URL (else GITLAB_URL, CI_SERVER_URL).")
@click.option(
    "--sandbox",
    "sandbox_path",
    default=str(DEFAULT_SANDBOX),
    show_default=True,
    metavar="PATH",
    help="State file of the built-in sandbox, used when no GitLab is configured.",
)
@click.option(
    "--today",
    callback=_parse_date,
    metavar="YYYY-MM-DD",
    help="Fix the date for every date rule (default: today, UTC).",
)
@click.version_option(__version__, prog_name="gl-csm")
@click.pass_context
def main(
    ctx: click.Context,
    config_path: str | None,
    gitlab_url: str | None,
    sandbox_path: str,
    today: date,
) -> None:
    """gl-csm: the GitLab automation bot for Customer Success Managers."""
    ctx.obj = AppContext(
        config_path=Path(config_path or DEFAULT_CONFIG),
        config_explicit=config_path is not None,
        gitlab_url=gitlab_url,
        # Whole: a run from another directory must see that it is another sandbox.
        sandbox_path=Path(sandbox_path).absolute(),
        today=today,
    )


def _set_commit_registry(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    app = ctx.find_object(AppContext)
    if app is not None and value:
        app.commit_registry = True


def edits_registry(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--commit-registry, on the commands that may edit accounts/*.yml (README "Registry
    changes"): onboard, promote, handoff, triage and react (a promote), accounts import."""
    return click.option(
        "--commit-registry",
        is_flag=True,
        expose_value=False,
        callback=_set_commit_registry,
        help="Commit registry edits to the branch gl-csm/registry-updates of the ops project "
        "and open/update its merge request (automatic in CI against a GitLab).",
    )(fn)


def writing_command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options every writing command takes (SPEC 7)."""
    fn = click.option("--stats", is_flag=True, help="Print API calls made (reads, writes).")(fn)
    fn = click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
    )(fn)
    fn = click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")(fn)
    return fn


def run_plan(
    app: AppContext,
    build: Callable[[Runtime], Plan],
    *,
    dry_run: bool,
    fmt: str,
    stats: bool,
    after: Callable[[Runtime, Outcome], dict[str, Any] | None] | None = None,
    progress: Any = None,
    failed: int = 0,
) -> None:
    """Open the runtime, build the plan, apply it unless --dry-run, print, exit.
    ``progress`` (gl_csm.progress.Progress) shows the changes being applied; ``failed``
    is the exit code of what the command already found wrong (at least that)."""
    runtime = app.runtime(dry_run=dry_run)
    try:
        before = registry_snapshot(app, dry_run)
        plan = build(runtime)
        if dry_run:
            outcome = dry_run_outcome(plan)
        elif progress is not None:
            progress.start("triage: applied", len(plan.changes), "changes")
            outcome = plan.apply(runtime.gateway, on_change=progress.advance)
        else:
            outcome = plan.apply(runtime.gateway)
        if progress is not None:
            progress.finish()
        extra = after(runtime, outcome) if after and not dry_run else None
        committed = commit_registry_edits(app, runtime, before)
    finally:
        runtime.close()
    counts = runtime.gateway.stats.to_json() if stats else None
    click.echo(outcome.render(fmt, dry_run=dry_run, stats=counts, extra=extra))
    # Also with --format json: a failing CI shard's log says which accounts and why.
    for failure in outcome.failures:
        click.echo(f"gl-csm: error: {failure.to_text()}", err=True)
    sys.exit(max(outcome.exit_code, committed, failed))


def registry_snapshot(app: AppContext, dry_run: bool) -> Any:
    """The registry files before a command, when its edits are to be committed
    (README "Registry changes"); None otherwise."""
    from gl_csm.services import registry_commit

    if dry_run or not registry_commit.wanted(app.settings, app.commit_registry):
        return None
    registry_commit.ops_project(app.settings)  # no ops project: exit 2 before any write
    return registry_commit.snapshot(app.settings)


def commit_registry_edits(app: AppContext, runtime: Runtime, before: Any) -> int:
    """Commit what the command changed in the registry; the exit code it adds (1 when
    the commit failed: the edits are then only in this checkout, and it says so)."""
    from gl_csm.services import registry_commit

    if before is None:
        return 0
    files = registry_commit.changed(before)
    if not files:
        return 0
    job = click.get_current_context().command_path.partition(" ")[2] or "gl-csm"
    try:
        line = registry_commit.commit_registry(
            runtime.gateway, registry_commit.ops_project(app.settings), files, job
        )
    except GlCsmError as exc:
        click.echo(
            f"gl-csm: error: registry edits of {', '.join(sorted(files))} were not committed "
            f"(they are only in this checkout): {exc}",
            err=True,
        )
        return 1
    click.echo(f"gl-csm: {line}", err=True)
    return 0


# -- demo --------------------------------------------------------------------------


@main.command()
@click.option(
    "--dir",
    "folder",
    default=".gl-csm/demo",
    show_default=True,
    metavar="PATH",
    help="Where the demo copies the registry and keeps its sandbox and report.",
)
@click.pass_obj
def demo(app: AppContext, folder: str) -> None:
    """Run the daily job on the built-in sandbox with the sample registry: setup,
    onboard every account, triage, report; print what was created and where the
    report is. Writes only under --dir; never a real GitLab."""
    from gl_csm.demo import run_demo

    result = run_demo(app.config_path, Path(folder), app.today)
    click.echo(result.to_text())
    sys.exit(1 if result.failures else 0)


# -- init --------------------------------------------------------------------------


@main.command()
@click.argument("folder", metavar="[DIR]", default=".", required=False)
@click.option(
    "--project",
    default=None,
    metavar="PATH",
    help="Where gl-csm (its CI/CD components and image) lives on your GitLab "
    "(default customer-success/gl-csm).",
)
@click.option(
    "--image",
    default=None,
    metavar="IMAGE",
    help="The jobs' image (default: gl-csm's own image, $CI_REGISTRY/PROJECT:VERSION).",
)
@click.option("--dry-run", is_flag=True, help="Print the files it would write; write nothing.")
def init(folder: str, project: str | None, image: str | None, dry_run: bool) -> None:
    """Scaffold a CS team's repository in DIR (default: here): a commented gl-csm.yml,
    one example account per segment, a .gitlab-ci.yml including gl-csm's CI/CD
    components by version, a .gitignore for every output, a README for the team.
    Never overwrites a file."""
    from gl_csm.services.init import DEFAULT_PROJECT, next_steps, plan_init

    plan = plan_init(Path(folder), project or DEFAULT_PROJECT, image)
    outcome = dry_run_outcome(plan) if dry_run else plan.apply(None)
    click.echo(outcome.render("text", dry_run=dry_run))
    for failure in outcome.failures:
        click.echo(f"gl-csm: error: {failure.to_text()}", err=True)
    if plan.changes and not dry_run and not outcome.failures:
        click.echo(next_steps(Path(folder)))
    sys.exit(outcome.exit_code)


# -- doctor ------------------------------------------------------------------------


@main.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--dashboard",
    "dashboard_only",
    is_flag=True,
    help="Only whether the dashboard may be kept as a job artifact or published on Pages: "
    "the project (CI_PROJECT_PATH, else ops_project) is private and its Pages members-only.",
)
@click.pass_obj
def doctor(app: AppContext, fmt: str, dashboard_only: bool) -> None:
    """Read-only preflight: is it GitLab, is the token valid (scopes, expiry), does its
    user have Owner on the collaboration groups and Maintainer on the internal projects,
    are those private, is the taxonomy there, is every registry user a GitLab user,
    which edition, and may the dashboard be kept or published (CI_PROJECT_PATH or
    ops_project private, its Pages members-only). One line per check with the fix; exit
    0 when all hold, 2 otherwise."""
    from gl_csm.services.doctor import run_dashboard_doctor, run_doctor

    # No probe: an unreachable GitLab or a refused token is a check that fails, here.
    runtime = open_runtime(app.settings, app.today, app.sandbox_path, persist=False, probe=False)
    try:
        if dashboard_only:
            report = run_dashboard_doctor(runtime.gateway, runtime.settings)
        else:
            report = run_doctor(runtime.gateway, runtime.settings, runtime.today)
    finally:
        runtime.close()
    click.echo(report.render(fmt))
    sys.exit(0 if report.ok else 2)


# -- setup -------------------------------------------------------------------------


@main.command()
@writing_command
@click.pass_obj
def setup(app: AppContext, dry_run: bool, fmt: str, stats: bool) -> None:
    """Create the label taxonomy where the internal projects live."""
    from gl_csm.services.setup import plan_setup

    run_plan(
        app,
        lambda rt: plan_setup(rt.gateway, rt.settings),
        dry_run=dry_run,
        fmt=fmt,
        stats=stats,
    )


# -- collaboration projects: onboard, promote, verify, templates --------------------


@main.command()
@click.argument("account")
@writing_command
@edits_registry
@click.pass_obj
def onboard(app: AppContext, account: str, dry_run: bool, fmt: str, stats: bool) -> None:
    """Create ACCOUNT's collaboration project from its segment's template."""
    from gl_csm.services.collaboration.onboard import plan_onboard

    run_plan(
        app,
        lambda rt: plan_onboard(rt.gateway, rt.settings, account, rt.today),
        dry_run=dry_run,
        fmt=fmt,
        stats=stats,
    )


@main.command()
@click.argument("account")
@writing_command
@edits_registry
@click.pass_obj
def promote(app: AppContext, account: str, dry_run: bool, fmt: str, stats: bool) -> None:
    """The customer paid: move ACCOUNT's project to post-sales and start onboarding."""
    from gl_csm.services.collaboration.promote import plan_promote

    run_plan(
        app,
        lambda rt: plan_promote(rt.gateway, rt.settings, account, rt.today),
        dry_run=dry_run,
        fmt=fmt,
        stats=stats,
    )


@main.command()
@click.argument("account")
@click.option("--fix", is_flag=True, help="Add what is missing (never deletes or rewrites).")
@writing_command
@click.pass_obj
def verify(app: AppContext, account: str, fix: bool, dry_run: bool, fmt: str, stats: bool) -> None:
    """List what ACCOUNT's project lacks compared with its template; --fix adds it."""
    from gl_csm.plan import dry_run_outcome
    from gl_csm.services.collaboration.verify import plan_verify, render_verification

    runtime = app.runtime(dry_run=dry_run or not fix)
    try:
        if fix:
            from gl_csm.services.guards import require_internal_projects

            # --fix writes: refused while an internal project is public (README
            # "Running against GitLab"); listing what is missing writes nothing.
            _, projects = app.settings.require_layout("verify")
            require_internal_projects(runtime.gateway, projects)
        result = plan_verify(runtime.gateway, runtime.settings, account, runtime.today)
        outcome = None
        if fix:
            outcome = (
                dry_run_outcome(result.plan) if dry_run else result.plan.apply(runtime.gateway)
            )
    finally:
        runtime.close()
    counts = runtime.gateway.stats.to_json() if stats else None
    click.echo(render_verification(result, outcome, fmt, dry_run=dry_run, stats=counts))
    if outcome is not None and fmt != "json":
        for failure in outcome.failures:
            click.echo(f"gl-csm: error: {failure.to_text()}", err=True)
    sys.exit(outcome.exit_code if outcome is not None else 0)


@main.group()
def templates() -> None:
    """Check and preview the project templates."""


@templates.command("check")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--codequality",
    "codequality_path",
    default=None,
    metavar="FILE",
    help="Also write the findings as a GitLab Code Quality report (merge request widget).",
)
@click.pass_obj
def templates_check(app: AppContext, fmt: str, codequality_path: str | None) -> None:
    """Validate every template and render it for every sample account (no GitLab)."""
    from gl_csm.services.codequality import code_quality
    from gl_csm.services.templates_review import check_templates, repo_root

    result = check_templates(app.settings, app.today)
    if codequality_path:
        report = code_quality(result.problems, repo_root(app.settings))
        try:
            Path(codequality_path).write_text(json.dumps(report, indent=2), encoding="utf-8")
        except OSError as exc:
            raise click.UsageError(f"--codequality {codequality_path}: {exc.strerror}") from None
    click.echo(json.dumps(result.to_json(), indent=2) if fmt == "json" else result.to_text())
    sys.exit(0 if result.ok else 1)


@templates.command("preview")
@click.argument("account", required=False)
@click.option(
    "--phase",
    type=click.Choice(["pre-sales", "post-sales"]),
    default=None,
    help="Default: the phase the project starts in.",
)
@click.option(
    "--mr",
    "mr_iid",
    type=click.IntRange(min=1),
    default=None,
    metavar="IID",
    help="Post the preview of a merge request's changed templates as one MR note "
    "(default without ACCOUNT: CI_MERGE_REQUEST_IID).",
)
@click.option(
    "--project",
    default=None,
    metavar="PATH",
    help="Project of --mr (default CI_MERGE_REQUEST_PROJECT_PATH, else CI_PROJECT_PATH).",
)
@writing_command
@click.pass_obj
def templates_preview(
    app: AppContext,
    account: str | None,
    phase: str | None,
    mr_iid: int | None,
    project: str | None,
    dry_run: bool,
    fmt: str,
    stats: bool,
) -> None:
    """Print what onboard would create for ACCOUNT, or with --mr IID post the rendered
    preview of the templates a merge request changes as one note."""
    import os

    from gl_csm.services.templates_review import plan_mr_preview, preview

    if account is not None and mr_iid is not None:
        raise click.UsageError("give ACCOUNT (local preview) or --mr IID, not both")
    if account is not None:
        click.echo(preview(app.settings, account, app.today, phase), nl=False)
        return
    env_iid = os.environ.get("CI_MERGE_REQUEST_IID", "")
    if mr_iid is None and env_iid.isdigit():
        mr_iid = int(env_iid)
    if mr_iid is None:
        raise click.UsageError("give ACCOUNT, or --mr IID (or run in a merge request pipeline)")
    path = (
        project
        or os.environ.get("CI_MERGE_REQUEST_PROJECT_PATH")
        or os.environ.get("CI_PROJECT_PATH")
    )
    if not path:
        raise click.UsageError("--mr needs --project PATH (or CI_MERGE_REQUEST_PROJECT_PATH)")
    iid = mr_iid
    run_plan(
        app,
        lambda rt: plan_mr_preview(rt.gateway, rt.settings, rt.today, path, iid),
        dry_run=dry_run,
        fmt=fmt,
        stats=stats,
    )


# -- assess ------------------------------------------------------------------------


@main.command()
@click.argument("accounts", nargs=-1)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--by-csm", is_flag=True, help="Book balance per CSM: P1 share against the target.")
@click.pass_obj
def assess(app: AppContext, accounts: tuple[str, ...], fmt: str, by_csm: bool) -> None:
    """Priority, health and lifecycle of accounts (no GitLab needed; with one, the
    evidence from the collaboration projects the cards record)."""
    from gl_csm.services.assess import (
        book_balance,
        render_book_balance,
        render_json,
        render_text,
        run_assess,
    )

    settings = app.settings
    evidence = None
    if settings.gitlab_url and settings.projects and (app.gitlab_url or settings.token):
        # SPEC 4.1: with a GitLab (--gitlab-url, or one configured with its token: a CI
        # job's CI_SERVER_URL alone keeps `assess` offline), the evidence the daily
        # triage recorded on the tracking cards (one listing): the values the card shows.
        from gl_csm.services.assess import recorded_evidence

        runtime = app.runtime()
        try:
            evidence = recorded_evidence(runtime.gateway, settings)
        finally:
            runtime.close()
    run = run_assess(
        settings.accounts_dir,
        settings.rules,
        app.today,
        accounts,
        evidence=evidence,
        cache=settings.cache_dir,
    )
    if by_csm:
        click.echo(render_book_balance(book_balance(run, settings.rules), fmt))
    else:
        click.echo(render_json(run) if fmt == "json" else render_text(run))
    for problem in run.problems:
        click.echo(f"gl-csm: error: {problem}", err=True)
    sys.exit(1 if run.problems else 0)


# -- sandbox -----------------------------------------------------------------------


def _bound(bind: Callable[[], Any], host: str, port: int) -> Any:
    """The server ``bind`` makes, or one line and exit 2 when the address cannot be had
    (a port in use is a usage problem, not a crash)."""
    import errno

    try:
        return bind()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"--port {port}: {host}:{port} is already in use (another `gl-csm serve` or "
                f"`sandbox serve`?); stop it or choose another --port"
            ) from None
        raise UsageError(f"--host {host} --port {port}: cannot listen: {exc.strerror}") from None


@main.group()
def sandbox() -> None:
    """The built-in GitLab API emulator."""


@sandbox.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), required=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--state",
    "state_path",
    default=None,
    metavar="PATH",
    help="State file (default: the global --sandbox path).",
)
@click.option("--latency-ms", type=click.IntRange(min=0), default=0, help="Added to every request.")
@click.option(
    "--error-rate", type=click.FloatRange(0, 1), default=0.0, help="Share of requests answered 502."
)
@click.option(
    "--rate-limit",
    type=click.IntRange(min=0),
    default=0,
    help="Requests per minute per token, then 429 with Retry-After (0 = none).",
)
@click.option(
    "--edition",
    type=click.Choice(["free", "premium", "ultimate"]),
    default="free",
    show_default=True,
    help="GitLab tier to emulate: Free keeps one assignee and scoped labels are not exclusive.",
)
@click.option(
    "--search",
    type=click.Choice(["fulltext", "ilike", "none"]),
    default="fulltext",
    envvar="GL_CSM_SANDBOX_SEARCH",
    show_default=True,
    help="Issue search: GitLab's full-text search, the older substring (ilike) search, "
    "or none (every search finds nothing).",
)
@click.pass_obj
def sandbox_serve(
    app: AppContext,
    port: int,
    host: str,
    state_path: str | None,
    latency_ms: int,
    error_rate: float,
    rate_limit: int,
    edition: str,
    search: str,
) -> None:
    """Serve the sandbox over HTTP at http://HOST:PORT (any non-empty PRIVATE-TOKEN)."""
    from gl_csm.runtime import load_sandbox, lock_state, seed_sandbox
    from gl_csm.sandbox import Faults, serve

    path = Path(state_path).absolute() if state_path else app.sandbox_path
    # Held while serving; the kernel releases it if the process dies (state_lock.py).
    lock = lock_state(path)
    try:
        sb = load_sandbox(path, app.today, edition=edition, search=search)
        settings = app.settings
        seed_sandbox(sb, settings)
        # Served, every change comes through a request: listings are memoised between
        # writes (sandbox/store.py Store.listing).
        sb.store.listings = {}
        faults = Faults(latency_ms=latency_ms, error_rate=error_rate, rate_limit=rate_limit)
        server = _bound(lambda: serve(sb, host=host, port=port, faults=faults), host, port)
    except BaseException:
        lock.release()
        raise
    click.echo(
        json.dumps(
            {
                "url": server.url,
                "state": str(path),
                "bot_user": sb.bot_username,
                "edition": edition,
                "search": search,
            }
        ),
        err=True,
    )

    def _stop(_signum: int, _frame: object) -> None:
        # SIGTERM (CI, tests, `kill`) ends the server like Ctrl-C: state is saved.
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        sb.save()
        lock.release()


# -- triage ------------------------------------------------------------------------


@main.command()
@click.option(
    "--shard",
    default=None,
    metavar="I/N",
    help="Process a stable share of the accounts (CI parallel: CI_NODE_INDEX/CI_NODE_TOTAL).",
)
@writing_command
@edits_registry
@click.pass_obj
def triage(app: AppContext, shard: str | None, dry_run: bool, fmt: str, stats: bool) -> None:
    """Assess every account; tracking, triage and escalation issues; reminders."""
    from gl_csm.progress import Progress, pacing_note
    from gl_csm.runtime import pace_limits
    from gl_csm.services.triage.run import parse_shard, plan_triage

    part = parse_shard(shard)
    runs: list[Any] = []
    progress = Progress(sys.stderr)

    def build(rt: Runtime) -> Plan:
        progress.writes = lambda: rt.gateway.stats.writes
        progress.note = pacing_note(pace_limits(rt.settings), rt.sandbox is None)
        run = plan_triage(rt.gateway, rt.settings, rt.today, shard=part, progress=progress)
        runs.append(run)
        return run.plan

    def after(_rt: Runtime, outcome: Outcome) -> dict[str, Any] | None:
        # The per-account results `gl-csm report` merges (JSON only).
        if fmt != "json" or not runs:
            return None
        return runs[0].extra(f.account for f in outcome.failures)

    run_plan(app, build, dry_run=dry_run, fmt=fmt, stats=stats, after=after, progress=progress)


# -- report ------------------------------------------------------------------------


@main.command()
@click.option(
    "--input",
    "inputs",
    multiple=True,
    required=True,
    metavar="FILE",
    help="JSON output of `gl-csm triage --format json` (repeat, or list more files after it).",
)
@click.argument("more", nargs=-1, metavar="[FILE]...")
@click.option(
    "--shards",
    "expected",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="How many shards ran (CI: parallel): a shard 1..N with no result file is named "
    "in the report too.",
)
@click.option("--output", default="report.md", show_default=True, metavar="FILE")
@click.option("--issue", is_flag=True, help="Also write the report to the summary issue.")
@click.option(
    "--html",
    metavar="DIR",
    default=None,
    help="Also write the static HTML dashboard to DIR (holds ARR and health: keep it internal).",
)
@writing_command
@click.pass_obj
def report(
    app: AppContext,
    inputs: tuple[str, ...],
    more: tuple[str, ...],
    expected: int | None,
    output: str,
    issue: bool,
    html: str | None,
    dry_run: bool,
    fmt: str,
    stats: bool,
) -> None:
    """Merge the triage shards' results into one portfolio report (Markdown)."""
    from gl_csm.services.triage.report import plan_report_issue, prepare_report

    _ = app.settings  # a config problem (no gl-csm.yml here) first: exit 2, nothing read
    runtime = app.runtime(dry_run=True)
    try:
        prepared = prepare_report(
            runtime.gateway, app.settings, app.today, [Path(p) for p in (*inputs, *more)], expected
        )
    finally:
        runtime.close()
    data, body, history = prepared.data, prepared.body, prepared.history
    # A bad shard does not stop the report (the others' accounts are in it, and it names
    # the shard); the run still exits 1 so the pipeline shows it.
    for failed in data.failed_shards:
        click.echo(f"gl-csm: error: {failed.to_text()}", err=True)
    failed_shards = 1 if data.failed_shards else 0
    if html and not dry_run:
        from gl_csm.dashboard.build import build_dashboard

        pages = build_dashboard(Path(html), data.accounts, history, app.today, app.settings.rules)
        click.echo(f"dashboard: {len(pages)} files written to {html}/ (open index.html)", err=True)
    if not dry_run:
        try:
            Path(output).write_text(body, encoding="utf-8")
        except OSError as exc:
            raise click.UsageError(f"--output {output}: cannot write: {exc.strerror}") from None
    if not issue:
        note = f"report of {len(data.accounts)} account(s) " + (
            "(dry run, not written)" if dry_run else f"written to {output}"
        )
        if fmt == "json":
            click.echo(
                json.dumps(
                    {
                        "changes": [],
                        "output": None if dry_run else output,
                        "accounts": len(data.accounts),
                    },
                    indent=2,
                )
            )
        else:
            click.echo(note)
        sys.exit(failed_shards)
    run_plan(
        app,
        lambda rt: plan_report_issue(rt.gateway, rt.settings, body, rt.today),
        dry_run=dry_run,
        fmt=fmt,
        stats=stats,
        failed=failed_shards,
    )


# -- react, serve (SPEC 5 React) ---------------------------------------------------


@main.command()
@click.option(
    "--payload",
    "payload_path",
    required=True,
    metavar="FILE",
    help='GitLab Issue Hook JSON file, or - for stdin (in a trigger pipeline: "$TRIGGER_PAYLOAD").',
)
@writing_command
@edits_registry
@click.pass_obj
def react(app: AppContext, payload_path: str, dry_run: bool, fmt: str, stats: bool) -> None:
    """Act now on one GitLab Issue Hook: the trigger labels it added."""
    from gl_csm.services.react import load_payload
    from gl_csm.services.react import react as react_to

    _ = app.settings  # a config problem (no gl-csm.yml here) first: exit 2, nothing read
    data = load_payload(None if payload_path == "-" else Path(payload_path))
    runtime = app.runtime(dry_run=dry_run)
    try:
        before = registry_snapshot(app, dry_run)
        reaction, outcome = react_to(
            runtime.gateway,
            runtime.settings,
            runtime.today,
            data,
            dry_run=dry_run,
            source=f"--payload {payload_path}",
        )
        committed = commit_registry_edits(app, runtime, before)
    finally:
        runtime.close()
    counts = runtime.gateway.stats.to_json() if stats else None
    click.echo(outcome.render(fmt, dry_run=dry_run, stats=counts, extra=reaction.to_json()))
    if fmt != "json":
        for failure in outcome.failures:
            click.echo(f"gl-csm: error: {failure.to_text()}", err=True)
    sys.exit(max(outcome.exit_code, committed))


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), required=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.pass_context
def serve(ctx: click.Context, port: int, host: str) -> None:
    """Serve `react` to a GitLab webhook at http://HOST:PORT (secret: GL_CSM_WEBHOOK_SECRET)."""
    import os

    from gl_csm.webhook_server import SECRET_ENV, WebhookApp, make_server, react_handler

    app: AppContext = ctx.obj
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        raise click.UsageError(
            f"{SECRET_ENV} is not set: set it to the webhook's secret token (the "
            f"X-Gitlab-Token GitLab sends); gl-csm serve refuses to accept unsigned payloads"
        )
    settings = app.settings  # config errors: exit 2 now, not on the first payload
    fixed_today = (
        ctx.find_root().get_parameter_source("today") != click.core.ParameterSource.DEFAULT
    )

    handle = react_handler(settings, app.sandbox_path, app.today if fixed_today else None)
    if not settings.gitlab_url:
        click.echo(
            f"gl-csm: no GitLab configured; payloads act on the built-in sandbox at "
            f"{app.sandbox_path} (set --gitlab-url or GITLAB_URL to use a real GitLab)",
            err=True,
        )
    webhook = WebhookApp(handle, secret)
    server = _bound(lambda: make_server(webhook, host, port), host, port)
    webhook.start()
    bound_host, bound_port = server.server_address[:2]
    click.echo(
        json.dumps({"url": f"http://{bound_host}:{bound_port}", "health": "/-/health"}), err=True
    )

    def _stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        webhook.stop()


# -- accounts ----------------------------------------------------------------------


@main.group()
def accounts() -> None:
    """The account registry (accounts/*.yml)."""


@accounts.command("import")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False))
@click.option(
    "--feed",
    type=click.Choice(("crm", "usage", "support", "nps")),
    default="crm",
    show_default=True,
    help="What the export holds: the CRM's account facts, or a data feed's figures "
    "(columns: `feeds.<feed>.columns`; a feed updates existing accounts only).",
)
@click.option(
    "--as-of",
    "as_of",
    callback=lambda ctx, param, value: None if value is None else _parse_date(ctx, param, value),
    help="Date of a feed's figures for rows whose as-of column is empty (YYYY-MM-DD).",
)
@writing_command
@edits_registry
@click.pass_obj
def accounts_import(
    app: AppContext,
    csv_file: str,
    feed: str,
    as_of: date | None,
    dry_run: bool,
    fmt: str,
    stats: bool,
) -> None:
    """Upsert registry files from a CRM export (columns: `crm_import.columns` of the config),
    or a usage, support or NPS feed (`--feed`; columns: `feeds.<feed>.columns`).

    Only the mapped keys change; comments, other keys and their order stay. A feed's
    figures older than the registry's are skipped; the accounts whose figures of the feed
    are stale or missing are listed at the end. No GitLab.
    """
    from gl_csm.services.moves.accounts_import import plan_feed_import, plan_import

    # Needs no GitLab; only an explicit --commit-registry commits the edits (then it does).
    before = registry_snapshot(app, dry_run) if app.commit_registry else None
    extra: dict[str, object] = {}
    if feed == "crm":
        if as_of is not None:
            raise click.UsageError("--as-of dates a feed's figures: give --feed too")
        plan = plan_import(app.settings, Path(csv_file))
    else:
        plan, stale = plan_feed_import(app.settings, Path(csv_file), feed, app.today, as_of)
        extra["stale_feeds"] = [s.to_json() for s in stale]
    outcome = dry_run_outcome(plan) if dry_run else plan.apply(None)
    committed, counts = 0, {"reads": 0, "writes": 0}  # files only, no API call
    if before is not None:
        runtime = app.runtime()
        try:
            committed = commit_registry_edits(app, runtime, before)
        finally:
            runtime.close()
        counts = runtime.gateway.stats.to_json()
    click.echo(outcome.render(fmt, dry_run=dry_run, stats=counts if stats else None, extra=extra))
    if fmt != "json":
        for failure in outcome.failures:
            click.echo(f"gl-csm: error: {failure.to_text()}", err=True)
    sys.exit(max(outcome.exit_code, committed))


# -- handoff, disengage -------------------------------------------------------------


@main.command()
@click.argument("account")
@click.argument("new_csm")
@writing_command
@edits_registry
@click.pass_obj
def handoff(
    app: AppContext, account: str, new_csm: str, dry_run: bool, fmt: str, stats: bool
) -> None:
    """Move ACCOUNT to NEW_CSM: registry, project membership, bot issues' assignees,
    handoff checklist (handbook 003)."""
    from gl_csm.services.moves.handoff import plan_handoff

    run_plan(
        app,
        lambda rt: plan_handoff(rt.gateway, rt.settings, account, new_csm, rt.today),
        dry_run=dry_run,
        fmt=fmt,
        stats=stats,
    )


@main.command()
@click.argument("account")
@click.option("--reason", default=None, metavar="TEXT", help="Why the CSM disengages.")
@writing_command
@click.pass_obj
def disengage(
    app: AppContext, account: str, reason: str | None, dry_run: bool, fmt: str, stats: bool
) -> None:
    """Open ACCOUNT's disengagement checklist issue (handbook 001)."""
    from gl_csm.services.moves.disengage import plan_disengage

    run_plan(
        app,
        lambda rt: plan_disengage(rt.gateway, rt.settings, account, rt.today, reason),
        dry_run=dry_run,
        fmt=fmt,
        stats=stats,
    )


@main.command("will-churn")
@click.argument("account")
@writing_command
@click.pass_obj
def will_churn(app: AppContext, account: str, dry_run: bool, fmt: str, stats: bool) -> None:
    """Open ACCOUNT's will-churn checklist issue (handbook 002's four steps); triage sets
    lifecycle::will-churn once every box is ticked."""
    from gl_csm.services.moves.will_churn import plan_will_churn

    run_plan(
        app,
        lambda rt: plan_will_churn(rt.gateway, rt.settings, account, rt.today),
        dry_run=dry_run,
        fmt=fmt,
        stats=stats,
    )
