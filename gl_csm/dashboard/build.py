"""Build the static dashboard: an overview, a page per CSM, a page per account.

Static files only (HTML + one CSS file, charts as inline SVG from :mod:`.svg`), every
link relative, so the folder can be opened from disk, kept as a CI artifact or served
by GitLab Pages. Templates are Jinja2 files shipped in the package, rendered with
autoescape: every value from the registry or GitLab is escaped.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from gl_csm.dashboard import svg
from gl_csm.domain.book_balance import book_balances
from gl_csm.domain.cadence import within_months
from gl_csm.domain.history import (
    HEALTHS,
    HistoryRow,
    health_since,
    score_trend,
    trend_words,
    weekly_health,
)
from gl_csm.domain.rules import Rules
from gl_csm.errors import UsageError

_SAFE = re.compile(r"[^a-z0-9._-]+")


def page_name(text: str) -> str:
    """A file name from a slug or username (never a path: no '/', no '..')."""
    name = _SAFE.sub("-", text.lower()).strip("-.")
    return name or "unnamed"


def _env() -> Environment:
    return Environment(
        loader=PackageLoader("gl_csm.dashboard", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _health(row: Mapping[str, Any]) -> str:
    h = row.get("health")
    return h if h in ("green", "yellow", "red") else "unknown"


def _counts(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return {k: sum(1 for r in rows if _health(r) == k) for k in HEALTHS}


def _url(value: object) -> str | None:
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None


def build_dashboard(
    out: Path,
    accounts: Mapping[str, Mapping[str, Any]],
    history: Mapping[str, Sequence[HistoryRow]],
    today: date,
    rules: Rules,
) -> list[Path]:
    """Write the dashboard into ``out`` (created; files of an older build replaced)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        for sub in ("csm", "account"):
            if (out / sub).exists():
                shutil.rmtree(out / sub)
            (out / sub).mkdir()
    except OSError as exc:
        raise UsageError(f"--html {out}: cannot write there ({exc.strerror})") from None
    env = _env()
    rows = sorted(
        (dict(r) for r in accounts.values() if not r.get("error")),
        key=lambda r: (r.get("name") or r["slug"]).lower(),
    )
    for r in rows:
        r["page"] = f"account/{page_name(r['slug'])}.html"
        r["csm_page"] = f"csm/{page_name(r['csm'])}.html" if r.get("csm") else None
        r["health_key"] = _health(r)
        past = history.get(r["slug"], ())
        r["trend"] = trend_words(score_trend(past, today)) or ""
        since = health_since(past) if past and past[-1].health == r.get("health") else None
        r["since"] = since.isoformat() if since else ""
        r["days"] = (today - since).days if since else None
        for key in ("tracking", "triage", "escalation"):
            r[key] = _url(r.get(key))
    months = rules.reminder("renewal-review").window_months
    renewals = sorted(
        (
            r
            for r in rows
            if r.get("renewal_date")
            and within_months(date.fromisoformat(r["renewal_date"]), today, months)
        ),
        key=lambda r: (r["renewal_date"], r["slug"]),
    )
    by_csm: dict[str, list[dict]] = {}
    for r in rows:
        by_csm.setdefault(r.get("csm") or "", []).append(r)
    csms = sorted(c for c in by_csm if c)
    weeks = [
        (d, c)
        for d, c in weekly_health(history, today)
        if history and d >= min(rs[0].day for rs in history.values() if rs)
    ]
    common = {"today": today.isoformat(), "total": len(rows)}
    written: list[Path] = []

    def write(file: str, template: str, root: str, **context: Any) -> None:
        text = env.get_template(template).render(root=root, **common, **context)
        path = out / file
        path.write_text(text, encoding="utf-8")
        written.append(path)

    shutil.copyfile(Path(__file__).parent / "templates" / "style.css", out / "style.css")
    written.append(out / "style.css")
    write(
        "index.html",
        "overview.html.j2",
        "",
        counts=_counts(rows),
        csms=[{"name": c, "page": f"csm/{page_name(c)}.html", **_counts(by_csm[c])} for c in csms],
        per_csm_chart=svg.stacked_bars("Health per CSM", csms, [_counts(by_csm[c]) for c in csms]),
        weekly_chart=svg.lines(
            "Portfolio health over the last 12 weeks",
            [d.isoformat() for d, _ in weeks],
            {k: [c[k] for _, c in weeks] for k in ("green", "yellow", "red")},
        )
        if weeks
        else None,
        renewals=renewals,
        in_triage=[r for r in rows if r.get("triage")],
        rows=rows,
    )
    books = [
        (r["csm"], r.get("segment") or "-", r["priority"])
        for r in rows
        if r.get("csm") and r.get("priority") is not None and not r.get("digital")
    ]
    balances = book_balances(books, rules.book_balance)
    for c in csms:
        mine = by_csm[c]
        write(
            f"csm/{page_name(c)}.html",
            "csm.html.j2",
            "../",
            name=c,
            rows=mine,
            counts=_counts(mine),
            chart=svg.stacked_bars(f"Health of {c}'s book", [c], [_counts(mine)]),
            balance=[b for b in balances if b.csm == c],
            renewals=[r for r in renewals if r.get("csm") == c],
        )
    for r in rows:
        past = history.get(r["slug"], ())
        write(
            r["page"],
            "account.html.j2",
            "../",
            account=r,
            chart=svg.lines(
                f"Score of {r.get('name') or r['slug']}",
                [h.day.isoformat() for h in past],
                {"#1f75cb": [h.score for h in past]},
            )
            if past
            else None,
            history=list(reversed(past))[:20],
            measures=r.get("measures") or [],
        )
    return written
