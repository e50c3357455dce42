"""Build the static dashboard: an overview, a page per CSM, a page per account.

Static files only (HTML + one CSS file, charts as inline SVG from :mod:`.svg`), every
link relative, so the folder can be opened from disk, kept as a CI artifact or served
by GitLab Pages. Templates are Jinja2 files shipped in the package, rendered with
autoescape: every value from the registry or GitLab is escaped.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from gl_csm.dashboard import svg
from gl_csm.dashboard.measures import readable
from gl_csm.domain.book_balance import book_balances
from gl_csm.domain.cadence import within_months
from gl_csm.domain.evidence import time_to_value_rows
from gl_csm.domain.history import (
    HistoryRow,
    health_since,
    score_trend,
    trend_words,
    weekly_health,
)
from gl_csm.domain.portfolio import (
    HEALTH_KEYS,
    arr_of,
    days_in_triage,
    dollars,
    health_key,
    is_pre_sales,
    money,
    update_overdue,
)
from gl_csm.domain.rules import Rules
from gl_csm.errors import UsageError

_SAFE = re.compile(r"[^a-z0-9._-]+")


def page_name(text: str) -> str:
    """A file name from a slug or username (never a path: no '/', no '..')."""
    name = _SAFE.sub("-", text.lower()).strip("-.")
    return name or "unnamed"


def page_names(names: Iterable[str]) -> dict[str, str]:
    """A file name (without ``.html``) per name, no two alike even on a case-insensitive
    filesystem (macOS, Windows): ``alice`` stays ``alice``; a name that :func:`page_name`
    changes (``Alice``, ``Alice Smith``) gets a short hash of itself, so ``Alice`` and
    ``alice`` get two pages."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(set(names)):
        base = page_name(name)
        if base != name:
            base = f"{base}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
        candidate, n = base, 2
        while candidate.casefold() in taken:
            candidate, n = f"{base}-{n}", n + 1
        taken.add(candidate.casefold())
        out[name] = candidate
    return out


def _env() -> Environment:
    return Environment(
        loader=PackageLoader("gl_csm.dashboard", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _counts(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return {k: sum(1 for r in rows if health_key(r) == k) for k in HEALTH_KEYS}


def _dollars(rows: Sequence[Mapping[str, Any]], today: date) -> dict[str, Any]:
    """The dollars table (the same figures as the summary issue's, domain/portfolio)."""
    d = dollars(rows, today)
    return {
        "days": d.days,
        "until": (today + timedelta(days=d.days)).isoformat(),
        "rows": [
            {
                "label": "all customers",
                **{k: (money(d.by_health[k]), d.accounts_by_health[k]) for k in HEALTH_KEYS},
                "total": (money(d.total), sum(d.accounts_by_health.values())),
            },
            {
                "label": f"renewing in the next {d.days} days",
                **{k: (money(d.renewing[k]), d.renewing_accounts[k]) for k in HEALTH_KEYS},
                "total": (money(d.renewing_total), sum(d.renewing_accounts.values())),
            },
        ],
        "in_triage": (money(d.in_triage), d.triage_accounts),
        "in_escalation": (money(d.in_escalation), d.escalation_accounts),
        "pre_sales": (money(d.pre_sales), d.pre_sales_accounts),
        "without_arr": list(d.without_arr),
    }


def _url(value: object) -> str | None:
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None


def _fresh_folders(out: Path) -> None:
    """Create ``out`` with empty ``csm/`` and ``account/`` folders (an older build's pages
    go), or a clear error naming the folder."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        for sub in ("csm", "account"):
            if (out / sub).exists():
                shutil.rmtree(out / sub)
            (out / sub).mkdir()
    except OSError as exc:
        raise UsageError(f"--html {out}: cannot write there ({exc.strerror})") from None


def _add_page_fields(
    rows: list[dict[str, Any]],
    history: Mapping[str, Sequence[HistoryRow]],
    today: date,
    rules: Rules,
) -> dict[str, str]:
    """Add to each row what its pages show (page links, trend, days in triage, ARR
    text); the CSM page names by CSM."""
    account_pages = page_names(r["slug"] for r in rows)
    csm_pages = page_names(r["csm"] for r in rows if r.get("csm"))
    for r in rows:
        r["page"] = f"account/{account_pages[r['slug']]}.html"
        r["csm_page"] = f"csm/{csm_pages[r['csm']]}.html" if r.get("csm") else None
        r["health_key"] = health_key(r)
        past = history.get(r["slug"], ())
        r["trend"] = trend_words(score_trend(past, today, rules.history.trend_days)) or ""
        since = health_since(past) if past and past[-1].health == r.get("health") else None
        r["since"] = since.isoformat() if since else ""
        # Days in triage as the summary issue counts them (domain/portfolio).
        r["triage_days"] = days_in_triage(r, today)
        r.setdefault("triage_since", None)
        r.setdefault("at_risk_due", None)
        r.setdefault("time_to_value", {})  # results of a gl-csm before SPEC 4.1
        r["overdue"] = update_overdue(r, today)
        r["arr_text"] = money(arr_of(r))
        r["pre_sales"] = is_pre_sales(r)
        for key in ("tracking", "triage", "escalation"):
            r[key] = _url(r.get(key))
    return csm_pages


def build_dashboard(
    out: Path,
    accounts: Mapping[str, Mapping[str, Any]],
    history: Mapping[str, Sequence[HistoryRow]],
    today: date,
    rules: Rules,
) -> list[Path]:
    """Write the dashboard into ``out`` (created; files of an older build replaced)."""
    _fresh_folders(out)
    env = _env()
    rows = sorted(
        (dict(r) for r in accounts.values() if not r.get("error")),
        key=lambda r: (r.get("name") or r["slug"]).lower(),
    )
    csm_pages = _add_page_fields(rows, history, today, rules)
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
    first = min((rs[0].day for rs in history.values() if rs), default=None)
    weeks = [(d, c) for d, c in weekly_health(history, today) if first and d >= first]
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
        pre_sales=sum(1 for r in rows if r["pre_sales"]),
        dollars=_dollars(rows, today),
        csms=[
            {
                "name": c,
                "page": f"csm/{csm_pages[c]}.html",
                **_counts(by_csm[c]),
                "total": len(by_csm[c]),
                "arr": money(sum(arr_of(r) or 0.0 for r in by_csm[c] if not r["pre_sales"])),
            }
            for c in csms
        ],
        per_csm_chart=svg.stacked_bars("Health per CSM", csms, [_counts(by_csm[c]) for c in csms]),
        bars_legend=svg.legend(("red", "yellow", "green", "unknown")),
        weekly_chart=svg.lines(
            "Portfolio health over the last 12 weeks",
            [d.isoformat() for d, _ in weeks],
            {k: [c[k] for _, c in weeks] for k in HEALTH_KEYS},
        )
        if weeks
        else None,
        lines_legend=svg.legend(
            HEALTH_KEYS, {**svg.LEGEND, "unknown": "no scorecard data (post-sales)"}
        ),
        weeks=[{"week": d.isoformat(), **c, "total": sum(c.values())} for d, c in weeks],
        renewals=renewals,
        # SPEC 4.1, handbook 004: the same figures as the summary issue's.
        time_to_value=time_to_value_rows(rows),
        in_triage=sorted(
            (r for r in rows if r.get("triage")),
            key=lambda r: (-(r["triage_days"] or 0), r["slug"]),
        ),
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
            f"csm/{csm_pages[c]}.html",
            "csm.html.j2",
            "../",
            name=c,
            rows=mine,
            counts=_counts(mine),
            dollars=_dollars(mine, today),
            chart=svg.stacked_bars(f"Health of {c}'s book", [c], [_counts(mine)]),
            bars_legend=svg.legend(("red", "yellow", "green", "unknown")),
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
            measures=readable(r.get("measures")),
        )
    return written
