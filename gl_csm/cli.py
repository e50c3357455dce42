"""The `gl-csm` command line (SPEC section 7): parse, build the context, call a service, print.

Errors a user can cause (bad config, bad registry, GitLab refusing something) are
printed as one line on stderr with the exit code of SPEC 7 (1 some accounts failed,
2 bad usage or config), never as a stack trace.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import click

from gl_csm.config import DEFAULT_CONFIG, Settings, load_settings
from gl_csm.errors import GlCsmError
from gl_csm.plan import Outcome, Plan, dry_run_outcome
from gl_csm.runtime import DEFAULT_SANDBOX, Runtime, open_runtime


class _Group(click.Group):
    """Turns our errors into one clear message and the SPEC's exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GlCsmError as exc:
            click.echo(f"gl-csm: error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@dataclass
class AppContext:
    config_path: Path
    config_explicit: bool
    gitlab_url: str | None
    sandbox_path: Path
    today: date
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(
                self.config_path, explicit=self.config_explicit, gitlab_url=self.gitlab_url
            )
        return self._settings

    def runtime(self) -> Runtime:
        return open_runtime(self.settings, self.today, self.sandbox_path)


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date:
    if value is None:
        return datetime.now(timezone.utc).date()
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
) -> None:
    """Open the runtime, build the plan, apply it unless --dry-run, print, exit."""
    runtime = app.runtime()
    try:
        plan = build(runtime)
        outcome = dry_run_outcome(plan) if dry_run else plan.apply(runtime.gateway)
        extra = after(runtime, outcome) if after and not dry_run else None
    finally:
        runtime.close()
    counts = runtime.gateway.stats.to_json() if stats else None
    click.echo(outcome.render(fmt, dry_run=dry_run, stats=counts, extra=extra))
    if fmt != "json":
        for failure in outcome.failures:
            click.echo(f"gl-csm: error: {failure.to_text()}", err=True)
    sys.exit(outcome.exit_code)


# -- setup -------------------------------------------------------------------------


@main.command()
@writing_command
@click.pass_obj
def setup(app: AppContext, dry_run: bool, fmt: str, stats: bool) -> None:
    """Create the label taxonomy (SPEC 6) where the internal projects live."""
    from gl_csm.services.setup import plan_setup

    run_plan(
        app,
        lambda rt: plan_setup(rt.gateway, rt.settings),
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
        click.echo(render_book_balance(book_balance(run), fmt))
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
@click.option("--state", "state_path", default=None, metavar="PATH",
              help="State file (default: the global --sandbox path).")
@click.option("--latency-ms", type=click.IntRange(min=0), default=0, help="Added to every request.")
@click.option("--error-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Share of requests answered 502.")
@click.option("--rate-limit", type=click.IntRange(min=0), default=0,
              help="Requests per minute per token, then 429 with Retry-After (0 = none).")
@click.pass_obj
def sandbox_serve(
    app: AppContext,
    port: int,
    host: str,
    state_path: str | None,
    latency_ms: int,
    error_rate: float,
    rate_limit: int,
) -> None:
    """Serve the sandbox over HTTP at http://HOST:PORT (any non-empty PRIVATE-TOKEN)."""
    from gl_csm.runtime import seed_sandbox
    from gl_csm.sandbox import Faults, Sandbox, serve

    path = Path(state_path) if state_path else app.sandbox_path
    sb = Sandbox.load(path)
    settings = app.settings
    seed_sandbox(sb, settings)
    faults = Faults(latency_ms=latency_ms, error_rate=error_rate, rate_limit=rate_limit)
    server = serve(sb, host=host, port=port, faults=faults)
    click.echo(
        json.dumps({"url": server.url, "state": str(path), "bot_user": sb.bot_username}),
        err=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        sb.save()

