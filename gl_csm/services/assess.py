"""`gl-csm assess`: assess the registry without GitLab (SPEC 7), and the book balance (SPEC 3)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.domain.account import RegistryError
from gl_csm.domain.assessment import Assessment, assess
from gl_csm.domain.book_balance import BookBalance, book_balances
from gl_csm.domain.evidence import Evidence
from gl_csm.domain.evidence import apply as apply_evidence
from gl_csm.domain.health import NO_SIGNALS, LabelSignals
from gl_csm.domain.measure_text import (
    deciding_overrides,
    health_text,
    measure_name,
    override_text,
    value_text,
)
from gl_csm.domain.rules import Rules
from gl_csm.gitlab.gateway import Gateway
from gl_csm.registry import load_registry


@dataclass(frozen=True, slots=True)
class AssessRun:
    assessments: tuple[Assessment, ...]
    problems: tuple[RegistryError, ...]  # one per bad file; the CLI exits 1 when any
    #: slug -> (registry key, value, source issue) where GitLab's evidence replaced the
    #: registry's value (SPEC 4.1; only when a GitLab is configured).
    sources: Mapping[str, tuple[tuple[str, date, str], ...]] = field(default_factory=dict)


def run_assess(
    accounts_dir: Path,
    rules: Rules,
    today: date,
    slugs: Sequence[str] = (),
    *,
    signals: Mapping[str, LabelSignals] | None = None,
    evidence: Mapping[str, Evidence] | None = None,
    cache: Path | None = None,
) -> AssessRun:
    """Load the registry and assess every (or each requested) account.

    `signals` maps slugs to their tracking issue's labels (triage passes them; the
    CLI's `assess` has no GitLab and passes none); `cache` is the registry cache's
    directory (registry_cache.py). Raises UsageError for an unknown
    slug or a missing directory.
    """
    registry = load_registry(accounts_dir, slugs, cache=cache)
    accounts = registry.accounts
    if slugs:
        # Report in the order asked for.
        order = {s: i for i, s in enumerate(slugs)}
        accounts = tuple(sorted(accounts, key=lambda a: order.get(a.slug, len(order))))
    get = (signals or {}).get
    # SPEC 4.1: with a GitLab, the evidence the daily triage recorded on each tracking
    # card is applied as the card applies it (domain/evidence.py).
    applied = {
        a.slug: apply_evidence(a, (evidence or {}).get(a.slug, Evidence())) for a in accounts
    }
    return AssessRun(
        tuple(
            assess(applied[a.slug].account, rules, today, get(a.slug, NO_SIGNALS)) for a in accounts
        ),
        registry.problems,
        {slug: found.sources for slug, found in applied.items() if found.sources},
    )


def recorded_evidence(gateway: Gateway, settings: Settings) -> dict[str, Evidence]:
    """The evidence each tracking card records (one listing of the accounts project)."""
    from gl_csm.services.card_data import card_value
    from gl_csm.services.triage.evidence import KEY

    _, projects = settings.require_layout("assess")
    issues = gateway.issues(projects.accounts, state="opened")
    return {
        slug: Evidence.from_data(card_value(issue.get("description"), KEY))
        for slug, issue in markers.index_by_marker(issues, "tracking").items()
    }


def render_json(run: AssessRun) -> str:
    """SPEC 7: a JSON list, one object per account; with a GitLab, ``evidence`` lists the
    values GitLab's evidence set and the issue each came from (SPEC 4.1)."""
    rows = []
    for a in run.assessments:
        row = a.to_json()
        if a.slug in run.sources:
            row["evidence"] = [
                {"key": key, "value": day.isoformat(), "source": ref}
                for key, day, ref in run.sources[a.slug]
            ]
        rows.append(row)
    return json.dumps(rows, indent=2) + "\n"


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return lines


def render_text(run: AssessRun, *, max_reasons: int = 2) -> str:
    """A table a CSM can read at a glance, then why each non-green account is so."""
    header = ("ACCOUNT", "SEGMENT", "PRIO", "HEALTH", "SCORE", "TRIAGE", "LIFECYCLE", "WHY")
    rows = []
    for a in run.assessments:
        h = a.health
        health = "-" if h is None else h.color
        if h is not None and h.sentiment_stale:
            health += "*"
        reasons = list(a.priority.reasons[:max_reasons])
        more = len(a.priority.reasons) - max_reasons
        if more > 0:
            reasons.append(f"+{more} more")
        rows.append(
            (
                a.slug,
                a.account.segment,
                _cell(a.priority.priority),
                health,
                "-" if a.score is None else f"{a.score:.1f}",
                "yes" if a.needs_triage else "",
                a.lifecycle,
                "; ".join(reasons),
            )
        )
    if not rows:
        return "no accounts\n"
    lines = _table(header, rows)
    notes = []
    for a in run.assessments:
        h = a.health
        if h is None:
            continue
        # People's words (measure names, units, the override that decided the color);
        # the keys stay in `--format json` (SPEC 7). A green account's red measures are
        # listed too: the score hides them, the CSM should not miss them (its yellow
        # ones would only crowd the list).
        shown = ("red",) if h.color == "green" else ("red", "yellow")
        bad = [
            f"{measure_name(m.name)} {m.color}"
            + ("" if value_text(m) == m.color else f" ({value_text(m)})")
            for m in h.measures
            if m.color in shown
        ]
        decided = deciding_overrides(h)  # already in the headline
        overrides = [
            f"override: {override_text(o)}" for o in h.overrides if override_text(o) not in decided
        ]
        parts = overrides + bad
        if parts:
            notes.append(f"{a.slug}: {health_text(h)}; " + "; ".join(parts))
    if notes:
        lines += ["", "Health signals:", *notes]
    evidence = [
        f"{slug}: {key} {day.isoformat()} from {ref} (the registry's is older or missing)"
        for slug, found in run.sources.items()
        for key, day, ref in found
    ]
    if evidence:
        lines += ["", "Evidence from GitLab:", *evidence]
    if any(a.health is not None and a.health.sentiment_stale for a in run.assessments):
        lines += ["", "* CSM sentiment is stale (not updated in 90+ days)"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- book balance


def book_balance(run: AssessRun, rules: Rules | None = None) -> list[BookBalance]:
    """SPEC 3 book balance per CSM (`team.csm`) and segment.

    Counts the CSM's prioritized accounts; pre-sales (no priority) and digital
    accounts (not CSM-assigned, handbook 001) are left out.
    """
    books = (
        (a.account.team.csm, a.account.segment, a.priority.priority)
        for a in run.assessments
        if a.account.team.csm is not None
        and a.priority.priority is not None
        and not a.account.digital
    )
    return book_balances(books, (rules or Rules()).book_balance)  # type: ignore[arg-type]


def render_book_balance(balances: Sequence[BookBalance], fmt: str = "text") -> str:
    """`gl-csm assess --by-csm`: text table or JSON list."""
    if fmt == "json":
        items = [
            {
                "csm": b.csm,
                "segment": b.segment,
                "accounts": b.accounts,
                "p1": b.p1,
                "p1_pct": round(b.p1_pct, 1),
                "target": b.target or None,
                "status": b.status,
            }
            for b in balances
        ]
        return json.dumps(items, indent=2) + "\n"
    if not balances:
        return "no CSM-assigned accounts with a priority\n"
    header = ("CSM", "SEGMENT", "ACCOUNTS", "P1", "P1 %", "TARGET", "STATUS")
    rows = [
        (
            b.csm,
            b.segment,
            str(b.accounts),
            str(b.p1),
            f"{b.p1_pct:.0f}%",
            b.target or "-",
            "WARN" if b.status == "warn" else b.status,
        )
        for b in balances
    ]
    return "\n".join(_table(header, rows)) + "\n"
