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

from gl_csm.config import DEFAULT_CONFIG, Settings, load_settings
from gl_csm.errors import GlCsmError
from gl_csm.plan import Outcome, Plan, dry_run_outcome
from gl_csm.runtime import DEFAULT_SANDBOX, Runtime, open_runtime
from gl_csm.urls import redact_url

#: Commands that never open a GitLab connection (SPEC 7): no URL, no token needed.
NO_GITLAB = frozenset({"assess", "templates check", "accounts import", "sandbox serve", "demo"})
#: The README section that documents each command (default: "Commands").
README_SECTION = {
    "doctor": "Preflight: gl-csm doctor",
    "demo": "Quick start",
    "accounts import": "Registry changes",
    "triage": "In CI",
    "report": "In CI",
    "react": "In CI",
    "serve": "In CI",
}
EXIT_CODES = (
    "Exit codes: 0 done; 1 some accounts failed (the rest done, each failure named); "
    "2 bad usage or config, or GitLab unreachable or refusing the token (nothing done)."
)


def _help_epilog(ctx: click.Context, formatter: click.HelpFormatter) -> None:
    """The token, the exit codes and the README section, at the end of every --help."""
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
    section = README_SECTION.get(name, "Commands")
    for text in (token, EXIT_CODES, f'Documentation: README.md, section "{section}".'):
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


@dataclass
class AppContext:
    config_path: Path
    config_explicit: bool
    gitlab_url: str | None
    sandbox_path: Path
    today: date
    _settings: Settings | None = None
    commit_registry: bool = False

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(
                self.config_path, explicit=self.config_explicit, gitlab_url=self.gitlab_url
            )
        return self._settings

    def runtime(self, *, dry_run: bool = False) -> Runtime:
        # A dry run writes nothing, not even a new sandbox state file.
        return open_runtime(self.settings, self.today, self.sandbox_path, persist=not dry_run)


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
@click.version_option(package_name="gl-csm")
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
        sandbox_path=Path(sandbox_path),
        today=today,
    )


def _set_commit_registry(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    app = ctx.find_object(AppContext)
    if app is not None and value:
        app.commit_registry = True


def writing_command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options every writing command takes (SPEC 7)."""
    fn = click.option(
        "--commit-registry",
        is_flag=True,
        expose_value=False,
        callback=_set_commit_registry,
        help="Commit registry edits to the branch gl-csm/registry-updates of the ops project "
        "and open/update its merge request (automatic in CI against a GitLab).",
    )(fn)
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
) -> None:
    """Open the runtime, build the plan, apply it unless --dry-run, print, exit.
    ``progress`` (gl_csm.progress.Progress) shows the changes being applied."""
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
    sys.exit(max(outcome.exit_code, committed))


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
    """Priority, health and lifecycle of accounts (no GitLab needed)."""
    from gl_csm.services.assess import (
        book_balance,
        render_book_balance,
        render_json,
        render_text,
        run_assess,
    )

    settings = app.settings
    run = run_assess(settings.accounts_dir, settings.rules, app.today, accounts)
    if by_csm:
        click.echo(render_book_balance(book_balance(run, settings.rules), fmt))
    else:
        click.echo(render_json(run) if fmt == "json" else render_text(run))
    for problem in run.problems:
        click.echo(f"gl-csm: error: {problem}", err=True)
    sys.exit(1 if run.problems else 0)


# -- sandbox -----------------------------------------------------------------------


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

    path = Path(state_path) if state_path else app.sandbox_path
    # Held while serving; the kernel releases it if the process dies (state_lock.py).
    lock = lock_state(path)
    sb = load_sandbox(path, app.today, edition=edition, search=search)
    settings = app.settings
    seed_sandbox(sb, settings)
    faults = Faults(latency_ms=latency_ms, error_rate=error_rate, rate_limit=rate_limit)
    server = serve(sb, host=host, port=port, faults=faults)
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
    output: str,
    issue: bool,
    html: str | None,
    dry_run: bool,
    fmt: str,
    stats: bool,
) -> None:
    """Merge the triage shards' results into one portfolio report (Markdown)."""
    from gl_csm.services.triage.report import (
        load_results,
        plan_report_issue,
        render_report,
        report_context,
    )

    data = load_results([Path(p) for p in (*inputs, *more)])
    # The history charts and trends read the portfolio history kept in GitLab.
    runtime = app.runtime(dry_run=True)
    try:
        history, previous = report_context(runtime.gateway, app.settings, app.today)
    finally:
        runtime.close()
    body = render_report(data, app.today, app.settings.rules, history=history, previous=previous)
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
        sys.exit(0)
    run_plan(
        app,
        lambda rt: plan_report_issue(rt.gateway, rt.settings, body, rt.today),
        dry_run=dry_run,
        fmt=fmt,
        stats=stats,
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
@click.pass_obj
def react(app: AppContext, payload_path: str, dry_run: bool, fmt: str, stats: bool) -> None:
    """Act now on one GitLab Issue Hook: the trigger labels it added."""
    from gl_csm.services.react import load_payload
    from gl_csm.services.react import react as react_to

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

    from gl_csm.runtime import open_runtime
    from gl_csm.services.react import react as react_to
    from gl_csm.webhook_server import SECRET_ENV, WebhookApp, make_server

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

    bot: dict[str, int | None] = {}

    def handle(data: Any) -> str:
        # A fresh runtime per payload, like a CLI run; the date follows the clock.
        today = app.today if fixed_today else datetime.now(UTC).date()
        runtime = open_runtime(settings, today, app.sandbox_path, notice=False, probe=False)
        try:
            # The token's user, read once: what tells the bot's issues from a person's.
            if "id" not in bot:
                bot["id"] = runtime.gateway.check_connection().get("id")
            runtime.gateway.bot_id = bot["id"]
            reaction, outcome = react_to(runtime.gateway, settings, today, data)
        finally:
            runtime.close()
        if outcome.failures:
            raise GlCsmError("; ".join(f.to_text() for f in outcome.failures))
        return f"{reaction.line} ({len(outcome.changes)} change(s))"

    if not settings.gitlab_url:
        click.echo(
            f"gl-csm: no GitLab configured; payloads act on the built-in sandbox at "
            f"{app.sandbox_path} (set --gitlab-url or GITLAB_URL to use a real GitLab)",
            err=True,
        )
    webhook = WebhookApp(handle, secret)
    server = make_server(webhook, host, port)
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
@writing_command
@click.pass_obj
def accounts_import(app: AppContext, csv_file: str, dry_run: bool, fmt: str, stats: bool) -> None:
    """Upsert registry files from a CRM export (columns: `crm_import.columns` of the config).

    Only the mapped keys change; comments, other keys and their order stay. No GitLab.
    """
    from gl_csm.services.moves.accounts_import import plan_import

    # Needs no GitLab; only an explicit --commit-registry commits the edits (then it does).
    before = registry_snapshot(app, dry_run) if app.commit_registry else None
    plan = plan_import(app.settings, Path(csv_file))
    outcome = dry_run_outcome(plan) if dry_run else plan.apply(None)
    committed, counts = 0, {"reads": 0, "writes": 0}  # files only, no API call
    if before is not None:
        runtime = app.runtime()
        try:
            committed = commit_registry_edits(app, runtime, before)
        finally:
            runtime.close()
        counts = runtime.gateway.stats.to_json()
    click.echo(outcome.render(fmt, dry_run=dry_run, stats=counts if stats else None))
    if fmt != "json":
        for failure in outcome.failures:
            click.echo(f"gl-csm: error: {failure.to_text()}", err=True)
    sys.exit(max(outcome.exit_code, committed))


# -- handoff, disengage -------------------------------------------------------------


@main.command()
@click.argument("account")
@click.argument("new_csm")
@writing_command
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
