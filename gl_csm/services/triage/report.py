"""`gl-csm report`: merge the triage shards' JSON results into one portfolio report.

Each `gl-csm triage --shard I/N --format json` job prints the per-account results of
its share (``accounts``); the report job reads them all and renders one Markdown report
(health and priority per CSM, book balance, renewals in the next 6 months, overdue
at-risk updates, open escalations), written to a file and, with ``--issue``, to one
summary issue in ``projects.accounts`` updated in place (found by its marker).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.domain.book_balance import book_balances
from gl_csm.domain.cadence import add_months, within_months
from gl_csm.domain.evidence import time_to_value_rows
from gl_csm.domain.history import (
    GroupedHistory,
    HistoryRow,
    row_of,
    score_trend,
    state_on,
    trend_words,
    usage_not_risen,
    weekly_health,
    worsened,
)
from gl_csm.domain.measures.registry import definitions as measure_definitions
from gl_csm.domain.measures.registry import measure_name, value_words
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
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan, Results
from gl_csm.services.guards import require_internal_projects
from gl_csm.services.tracking import _data_comment, card_data, render_template
from gl_csm.services.triage.report_charts import (
    BARS_LEGEND,
    LINES_LEGEND,
    health_lines,
    stacked_health_bars,
)
from gl_csm.services.triage.report_cut import (
    EVERY_ACCOUNT,
    LEFT_OUT,
    Cut,
    cut_accounts,
    cut_chosen,
    cut_lines,
    more_words,
)
from gl_csm.templates import Trusted, inline

KIND, KEY = "report", "portfolio"
#: GitLab's cap on an issue description, in UTF-8 bytes (app/models/concerns/issuable.rb
#: `validates :description, bytesize: { maximum: DESCRIPTION_LENGTH_MAX }`, 1.megabyte;
#: app/validators/bytesize_validator.rb). A longer update is refused (400, "is too long"),
#: as the sandbox does (gl_csm/sandbox/issues.py). The report's "—", "→" and "…" are
#: three bytes each, so the guard counts bytes, not characters.
DESCRIPTION_CAP = 1_048_576


def size_of(text: str) -> int:
    """What GitLab's cap counts: the text's UTF-8 bytes."""
    return len(text.encode("utf-8"))


_URL = re.compile(r"^https?://[^\s()<>]+$")


@dataclass(frozen=True)
class FailedShard:
    """A shard result the report could not use: which shard, and why."""

    shard: str
    why: str

    def to_text(self) -> str:
        return f"{self.shard}: {self.why}"


@dataclass
class ReportInput:
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    shards: list[str] = field(default_factory=list)
    #: The runs' "cannot be told" warnings (unknown region, unknown user).
    warnings: list[str] = field(default_factory=list)
    #: Shards whose result was missing, empty or broken: their accounts are not in the
    #: report, which says so and exits 1 (the other shards' report is still written).
    failed_shards: list[FailedShard] = field(default_factory=list)


_SHARD_FILE = re.compile(r"(\d+)\.json$")


def load_results(paths: Sequence[Path], expected: int | None = None) -> ReportInput:
    """Read the JSON outputs of `gl-csm triage --format json` (one per shard).

    A file that is missing, empty or not such an output is a failed shard, named with
    why; so is every shard 1..``expected`` with no file at all (its job wrote nothing
    the report job received). The shards that did answer still make the report."""
    out = ReportInput()
    seen: set[int] = set()
    for path in paths:
        try:
            doc, rows = _read_shard(Path(path))
        except _BrokenShard as broken:
            index = _index_of(Path(path), None)
            if index is not None:
                seen.add(index)
            out.failed_shards.append(FailedShard(_shard_name(path, index, expected), str(broken)))
            continue
        index = _index_of(Path(path), doc.get("shard"))
        if index is not None:
            seen.add(index)
        if doc.get("shard"):
            out.shards.append(str(doc["shard"]))
        for row in rows:
            out.accounts[row["slug"]] = row
        out.warnings.extend(str(w) for w in doc.get("warnings") or [] if isinstance(w, str))
        for err in doc.get("errors") or []:
            if isinstance(err, dict):
                who = err.get("account")
                out.failures.append(failure_words(who, str(err.get("message"))))
    for index in range(1, (expected or 0) + 1):
        if index not in seen:
            out.failed_shards.append(
                FailedShard(
                    f"shard {index}/{expected}",
                    "no result file (its job failed before writing one, or its artifact "
                    "did not reach the report job): its accounts are not in this report",
                )
            )
    return out


# A write that failed, as `Plan.apply` words it: "create-issue PROJECT DETAIL: CAUSE".
_FAILED_WRITE = re.compile(r"^(?P<action>[a-z]+(?:-[a-z]+)+) (?P<what>[^:]+): (?P<cause>.+)$", re.S)


def failure_words(who: str | None, message: str) -> str:
    """A failure as the summary issue's reader needs it: the account, then the cause
    and what to do (what the run printed), then which write it stopped; the account is
    not repeated when the cause names it again."""
    found = _FAILED_WRITE.match(message)
    if found is None:
        return f"{who}: {message}" if who else message
    cause = found["cause"]
    if who and cause.startswith(f"account {who}: "):
        cause = cause[len(f"account {who}: ") :]
    text = f"{cause} — the bot stopped at: {found['action']} {found['what'].strip()}"
    return f"{who}: {text}" if who else text


class _BrokenShard(Exception):
    """Why one shard's result cannot be used (the message is the report's words)."""


def _read_shard(path: Path) -> tuple[Mapping[str, Any], list[dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _BrokenShard("no such file: its accounts are not in this report") from None
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or type(exc).__name__
        raise _BrokenShard(f"cannot be read ({why}): its accounts are not in this report") from None
    if not text.strip():
        raise _BrokenShard(
            "empty: the shard wrote no result (see its job log; GitLab may have been "
            "unreachable): its accounts are not in this report"
        )
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise _BrokenShard(
            f"not JSON ({exc}): the shard stopped mid-way (see its job log); its accounts "
            f"are not in this report"
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("accounts"), list):
        raise _BrokenShard(
            "not the JSON output of `gl-csm triage --format json` (an object with "
            "'accounts'): its accounts are not in this report"
        )
    rows = [r for r in doc["accounts"] if isinstance(r, dict) and isinstance(r.get("slug"), str)]
    for row in rows:
        _check_dates(row)
    return doc, rows


def _index_of(path: Path, shard: object) -> int | None:
    """The shard's index: from its own "I/N", else from the file name (triage-I.json)."""
    if isinstance(shard, str) and shard.partition("/")[0].isdigit():
        return int(shard.partition("/")[0])
    found = _SHARD_FILE.search(path.name)
    return int(found.group(1)) if found else None


def _shard_name(path: Path | str, index: int | None, expected: int | None) -> str:
    if index is not None and expected:
        return f"shard {index}/{expected} ({path})"
    return str(path)


def _check_dates(row: Mapping[str, Any]) -> None:
    """The dates the report compares must be ISO dates (a hand-edited file names the row)."""
    for key in ("renewal_date", "at_risk_due"):
        value = row.get(key)
        if value is None:
            continue
        try:
            date.fromisoformat(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise _BrokenShard(
                f"account {row['slug']!r}: {key} must be a date like 2027-01-31, got "
                f"{value!r}: the shard's accounts are not in this report"
            ) from None


def _link(text: str, url: object) -> Trusted:
    if isinstance(url, str) and _URL.match(url):
        return Trusted(f"[{inline(text)}]({url})")
    return Trusted(inline(text))


def _months_ahead(today: date, months: int) -> list[str]:
    """Every calendar month the renewal window touches, today's to the one of today +
    ``months`` (SPEC 3 ``within_months``, both ends included), so each renewal the
    table lists falls in a bar: from the 23rd, a six-month window ends in a seventh
    month."""
    last = add_months(today, months)
    out, year, month = [], today.year, today.month
    while (year, month) <= (last.year, last.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _counted(counts: Mapping[str, int]) -> dict[str, int]:
    """A table row of the four health columns and their total."""
    row = {k: counts.get(k, 0) for k in HEALTH_KEYS}
    return {**row, "total": sum(row.values())}


def _due(row: Mapping[str, Any], today: date) -> str:
    """The next at-risk update, or since when it is overdue (a date, not a day count)."""
    due = row.get("at_risk_due")
    if not due:
        return "-"
    return f"**overdue since {due}**" if update_overdue(row, today) else str(due)


def _dollars(rows: Sequence[Mapping[str, Any]], today: date) -> dict[str, Any]:
    d = dollars(rows, today)
    return {
        "days": d.days,
        "until": (today + timedelta(days=d.days)).isoformat(),
        "arr": {k: money(v) for k, v in d.by_health.items()},
        "arr_n": d.accounts_by_health,
        "arr_total": money(d.total),
        "arr_total_n": sum(d.accounts_by_health.values()),
        "renewing": {k: money(v) for k, v in d.renewing.items()},
        "renewing_n": d.renewing_accounts,
        "renewing_total": money(d.renewing_total),
        "renewing_total_n": sum(d.renewing_accounts.values()),
        "in_triage": money(d.in_triage),
        "triage_n": d.triage_accounts,
        "in_escalation": money(d.in_escalation),
        "escalation_n": d.escalation_accounts,
        "pre_sales": money(d.pre_sales),
        "pre_sales_n": d.pre_sales_accounts,
        "without_arr": list(d.without_arr),
    }


def _usage_not_risen(
    ok: Sequence[Mapping[str, Any]],
    history: Mapping[str, Sequence[HistoryRow]],
    today: date,
    rules: Rules,
) -> list[dict[str, Any]]:
    """The accounts none of whose product measures (the registry's "product" group) is
    higher today than ``rules.history.measure_days`` ago (handbook 000: trend patterns);
    today's values are the run's, older ones the history's."""
    keys = [d.key for d in measure_definitions() if d.group == "product"]
    out = []
    for r in ok:
        rows = [*history.get(r["slug"], ()), row_of(today, r["slug"], r)]
        compared = usage_not_risen(rows, today, keys, rules.history.measure_days)
        if compared is None:
            continue
        out.append(
            {
                **r,
                "link": _link(r.get("name") or r["slug"], r.get("tracking")),
                "health": r.get("health") or "-",
                "arr": money(arr_of(r)),
                "arr_value": arr_of(r),
                "usage": "; ".join(
                    f"{measure_name(c.key)} {value_words(c.key, c.before)} on "
                    f"{c.recorded.isoformat()}, {value_words(c.key, c.now)} now"
                    for c in compared
                ),
            }
        )
    out.sort(key=_most_arr)
    return out


def _most_arr(row: Mapping[str, Any]) -> float:
    """A sort key: the most ARR first (none last); a table row keeps the number as
    ``arr_value`` beside its ``arr`` in words."""
    value = row["arr_value"] if "arr_value" in row else arr_of(row)
    return -(value or 0.0)


def _per_csm(ok: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per CSM (by name): accounts by priority and health, triage count and ARR
    (``arr`` in words, ``arr_value`` the number the table's cut ranks by)."""
    per_csm: dict[str, dict[str, Any]] = {}
    for r in ok:
        csm = r["csm"] if r["csm"] != "-" else "(no CSM)"
        c = per_csm.setdefault(
            csm,
            {
                "csm": csm,
                "accounts": 0,
                "p1": 0,
                "p2": 0,
                "p3": 0,
                "p4": 0,
                **dict.fromkeys(HEALTH_KEYS, 0),
                "triage": 0,
                "arr_value": 0.0,
            },
        )
        c["accounts"] += 1
        if r.get("priority") in (1, 2, 3, 4):
            c[f"p{r['priority']}"] += 1
        c[health_key(r)] += 1
        if r.get("triage"):
            c["triage"] += 1
        if not is_pre_sales(r):
            c["arr_value"] += arr_of(r) or 0.0
    for c in per_csm.values():
        c["arr"] = money(c["arr_value"])
    return [per_csm[k] for k in sorted(per_csm)]


def _balance(ok: Sequence[dict[str, Any]], rules: Rules) -> list[dict[str, Any]]:
    """The book-balance rows: each CSM's P1 share per segment against its target."""
    books = (
        (r["csm"], r.get("segment") or "-", r["priority"])
        for r in ok
        if r["csm"] != "-" and r.get("priority") is not None and not r.get("digital")
    )
    return [
        {
            "csm": b.csm,
            "segment": b.segment,
            "accounts": b.accounts,
            "p1": b.p1,
            "pct": f"{b.p1_pct:.0f}",
            "target": b.target_words,
            "status": "WARN" if b.status == "warn" else b.status,
        }
        for b in book_balances(books, rules.book_balance)
    ]


def _renewals(ok: Sequence[dict[str, Any]], today: date, months: int) -> list[dict[str, Any]]:
    """The accounts renewing within ``months``, soonest first."""
    renewals = []
    for r in ok:
        when = r.get("renewal_date")
        if when and within_months(date.fromisoformat(when), today, months):
            renewals.append(
                {
                    **r,
                    "arr": money(arr_of(r)),
                    "arr_value": arr_of(r),
                    "link": _link(r.get("name") or r["slug"], r.get("tracking")),
                    "health": r.get("health") or "-",
                    "priority": r.get("priority") or "-",
                }
            )
    renewals.sort(key=lambda r: (r["renewal_date"], r["slug"]))
    return renewals


def _overdue(ok: Sequence[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """The at-risk accounts whose update is overdue, longest overdue first."""
    overdue = [
        {
            **r,
            "triage_link": _link("triage issue", r.get("triage")),
            "health": r.get("health") or "-",
        }
        for r in ok
        if update_overdue(r, today)
    ]
    overdue.sort(key=lambda r: (r["at_risk_due"], r["slug"]))
    return overdue


# The escalation severities, most severe first (the escalation-severity:: labels,
# gl_csm/domain/taxonomy.py).
_SEVERITY = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def _escalations(ok: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The accounts with an open escalation, the most severe first, then the most ARR."""
    escalations = [
        {
            **r,
            "escalation_link": _link("escalation issue", r.get("escalation")),
            "health": r.get("health") or "-",
            "arr": money(arr_of(r)),
            "arr_value": arr_of(r),
        }
        for r in ok
        if r.get("escalation")
    ]
    escalations.sort(key=lambda r: (_SEVERITY.get(r.get("escalation_severity"), 4), _most_arr(r)))
    return escalations


def _grid(ok: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Accounts by priority and health: a table instead of "Priority: 1 7, 2 3"."""
    grid = []
    for priority in (1, 2, 3, 4, None):
        mine = [r for r in ok if r.get("priority") == priority]
        if mine or priority is not None:
            counts = {k: sum(1 for r in mine if health_key(r) == k) for k in HEALTH_KEYS}
            label = f"P{priority}" if priority else "none (pre-sales)"
            grid.append({"priority": label, **counts, "total": len(mine)})
    return grid


def _renewals_by_month(
    data: ReportInput, renewals: Sequence[dict[str, Any]], months_shown: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Health counts and ARR of the renewals in each month shown."""
    by_month: dict[str, dict[str, Any]] = {
        m: {**dict.fromkeys(HEALTH_KEYS, 0), "arr": 0.0} for m in months_shown
    }
    for r in renewals:
        month = r["renewal_date"][:7]
        if month in by_month:
            source = data.accounts[r["slug"]]
            by_month[month][health_key(source)] += 1
            if not is_pre_sales(source):
                by_month[month]["arr"] += arr_of(source) or 0.0
    return by_month


def _charts(
    csms: Sequence[dict[str, Any]],
    months: int,
    months_shown: Sequence[str],
    by_month: Mapping[str, dict[str, Any]],
    weeks: Sequence[tuple[str, Any]],
) -> dict[str, Trusted | None]:
    """The report's three charts: health per CSM, renewals by month, weekly health."""
    # Trusted: the charts are code blocks the bot builds; registry text in them (CSM
    # names) is reduced to plain labels by report_charts._label.
    weekly = health_lines("Portfolio health over the last 12 weeks", weeks)
    return {
        "per_csm": Trusted(
            stacked_health_bars("Health per CSM", [c["csm"] for c in csms], csms, "accounts")
        ),
        "renewals": Trusted(
            stacked_health_bars(
                f"Renewals in the next {months} months by health",
                months_shown,
                [by_month[m] for m in months_shown],
                "renewals",
            )
        ),
        "weekly": None if weekly is None else Trusted(weekly),
    }


def _in_triage(
    ok: Sequence[dict[str, Any]],
    history: Mapping[str, Sequence[HistoryRow]],
    today: date,
    rules: Rules,
) -> list[dict[str, Any]]:
    """The accounts in triage with their days in triage and score trend: the most ARR
    first, then the longest in triage."""
    in_triage = []
    for r in ok:
        if not r.get("triage"):
            continue
        past = history.get(r["slug"], ())
        in_triage.append(
            {
                **r,
                "link": _link(r.get("name") or r["slug"], r.get("tracking")),
                "triage_link": _link("triage issue", r.get("triage")),
                "health": r.get("health") or "-",
                "days": days_in_triage(r, today),
                "trend": trend_words(score_trend(past, today, rules.history.trend_days)) or "-",
                "due": Trusted(_due(r, today)),
                "arr": money(arr_of(r)),
                "arr_value": arr_of(r),
            }
        )
    in_triage.sort(key=lambda r: (_most_arr(r), -(r["days"] or 0), r["slug"]))
    return in_triage


def _worse(
    ok: Sequence[dict[str, Any]],
    history: Mapping[str, Sequence[HistoryRow]],
    previous: date | None,
) -> list[dict[str, Any]]:
    """The accounts whose health got worse since ``previous`` (the last report): red now
    first, then the most ARR."""
    worse: list[dict[str, Any]] = []
    if previous is not None:
        for r in ok:
            then = state_on(history.get(r["slug"], ()), previous)
            if then is not None and worsened(then.health, r.get("health")):
                worse.append(
                    {
                        **r,
                        "link": _link(r.get("name") or r["slug"], r.get("tracking")),
                        "before": then.health,
                        "score_before": "-" if then.score is None else then.score,
                        "score": "-" if r.get("score") is None else round(r["score"]),
                    }
                )
    worse.sort(key=lambda r: (r.get("health") != "red", _most_arr(r)))
    return worse


def render_report(
    data: ReportInput,
    today: date,
    rules: Rules,
    *,
    history: Mapping[str, Sequence[HistoryRow]] | None = None,
    previous: date | None = None,
) -> str:
    """The report; ``history`` (services/triage/history.py) adds the 12-week chart, the
    score trends and the accounts that got worse since ``previous`` (the last report).

    Each table shows at most ``rules.report.max_rows`` rows (report_cut.py); should the
    text still pass GitLab's cap on a description (``DESCRIPTION_CAP``, e.g. a team set a
    huge limit), the tables are halved until it fits, and the report says so: the
    summary issue's update never fails on its size."""
    context = _context(data, today, rules, history, previous)
    configured = rules.report.max_rows
    text = render_template("report.md.j2", _shown(context, configured))
    if size_of(text) <= DESCRIPTION_CAP:
        return text
    lengths = [len(v) for v in context.values() if isinstance(v, list)]
    limit = min(configured, max([*lengths, len(context["dollars"]["without_arr"])]))
    while limit > 0:
        limit //= 2
        shortened = {"configured": configured, "limit": limit, "cap": f"{DESCRIPTION_CAP:,}"}
        text = render_template("report.md.j2", _shown(context, limit, shortened))
        if size_of(text) <= DESCRIPTION_CAP:
            return text
    return _truncated(text, str(context["data"]))


def _truncated(text: str, data: str) -> str:
    """The last resort (no table row left and still too long: thousands of CSMs, say):
    the text cut at a line under the cap, saying so, with the hidden data kept."""
    tail = (
        "\n\n**Cut here:** the rest of this report would pass GitLab's limit on an issue "
        f"description ({DESCRIPTION_CAP:,} bytes); {EVERY_ACCOUNT}.\n\n{data}\n"
    )
    budget = DESCRIPTION_CAP - size_of(tail) - len("\n```")
    head = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    head = head[: head.rfind("\n")]
    # A cut inside a chart's code block closes it, or the rest would read as code.
    if sum(1 for line in head.splitlines() if line.startswith("```")) % 2:
        head += "\n```"
    return head + tail


def _shown(
    context: Mapping[str, Any], limit: int, shortened: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The template's context with every long table and list cut to ``limit`` rows."""
    dollars_ = dict(context["dollars"])
    names, more = cut_lines(dollars_["without_arr"], limit, ("account", "accounts"), EVERY_ACCOUNT)
    dollars_["without_arr"], dollars_["without_arr_more"] = names, more
    failures, failures_more = cut_lines(
        context["failures"],
        limit,
        ("failure", "failures"),
        "every one is in the triage-*.json job artifacts (errors) and the triage job logs",
    )
    warnings, warnings_more = cut_lines(
        context["warnings"], limit, ("warning", "warnings"), "every one is in the triage job logs"
    )
    skipped, skipped_more = cut_lines(
        list(context["history_skipped"]),
        limit,
        ("line", "lines"),
        "they are in the files of `history/`",
    )
    csms = _cut_csms(context["per_csm"], limit)
    return {
        **context,
        "shortened": shortened,
        "dollars": dollars_,
        "per_csm": csms,
        "charts": _charts(csms.rows, *context["chart_input"]),
        "balance": _cut_balance(context["balance"], limit),
        "in_triage": cut_accounts(context["in_triage"], limit, "the most ARR first"),
        "worse": cut_accounts(context["worse"], limit, "red now first, then the most ARR"),
        "usage_flat": cut_accounts(context["usage_flat"], limit, "the most ARR first"),
        "renewals": cut_accounts(context["renewals"], limit, "renewing soonest first"),
        "overdue": cut_accounts(context["overdue"], limit, "longest overdue first"),
        "escalations": cut_accounts(
            context["escalations"], limit, "most severe first, then the most ARR"
        ),
        "failures": failures,
        "failures_more": failures_more,
        "warnings": warnings,
        "warnings_more": warnings_more,
        "history_skipped": skipped,
        "history_skipped_more": skipped_more,
    }


def _cut_csms(csms: Sequence[Mapping[str, Any]], limit: int) -> Cut:
    """The per-CSM table (and its chart), by name: when cut, the CSMs with the most
    accounts in triage, then the most ARR."""

    def line(rest: Sequence[Mapping[str, Any]], kept: int) -> str:
        accounts = sum(c["accounts"] for c in rest)
        return (
            f"{more_words(len(rest), 'CSM', 'CSMs', range(kept))} ({accounts:,} accounts, ARR "
            f"{money(sum(c['arr_value'] for c in rest))}): "
            + (
                f"the table and the chart show {kept:,} CSMs by name, those with the most "
                "accounts in triage, then the most ARR"
                if kept
                else LEFT_OUT
            )
            + "; every CSM's book is in the dashboard."
        )

    return cut_chosen(csms, limit, lambda c: (-c["triage"], -c["arr_value"]), line)


def _cut_balance(balance: Sequence[Mapping[str, Any]], limit: int) -> Cut:
    """The book-balance table, by CSM: when cut, the WARN rows first, then the largest
    books."""

    def line(rest: Sequence[Mapping[str, Any]], kept: int) -> str:
        warn = sum(1 for b in rest if b["status"] == "WARN")
        return (
            f"{more_words(len(rest), 'CSM book', 'CSM books', range(kept))} "
            f"({sum(b['accounts'] for b in rest):,} "
            f"accounts, {warn:,} of them WARN): "
            + (
                f"the table shows {kept:,} by CSM, the WARN ones first, then the largest books"
                if kept
                else LEFT_OUT
            )
            + "; every CSM's book is in the dashboard."
        )

    return cut_chosen(balance, limit, lambda b: (b["status"] != "WARN", -b["accounts"]), line)


def _context(
    data: ReportInput,
    today: date,
    rules: Rules,
    history: Mapping[str, Sequence[HistoryRow]] | None,
    previous: date | None,
) -> dict[str, Any]:
    """Everything the report shows, every table whole (``_shown`` cuts them)."""
    # Lines of history/*.csv the read skipped (gl_csm/domain/history.py read_csv).
    skipped = history.skipped if isinstance(history, GroupedHistory) else ()
    history = history or {}
    rows = sorted(data.accounts.values(), key=lambda r: r.get("name") or r["slug"])
    ok = [{**r, "csm": r.get("csm") or "-"} for r in rows if not r.get("error")]
    months = rules.reminder("renewal-review").window_months
    renewals = _renewals(ok, today, months)
    failures = sorted(
        set(data.failures) | {f"{r['slug']}: {r['error']}" for r in rows if r.get("error")}
    )
    totals = {k: sum(1 for r in ok if health_key(r) == k) for k in HEALTH_KEYS}
    months_shown = _months_ahead(today, months)
    by_month = _renewals_by_month(data, renewals, months_shown)
    # The history starts with the first triage run: weeks before it are left out, not
    # drawn as zero accounts.
    first = min((rs[0].day for rs in history.values() if rs), default=None)
    weeks = [(d.isoformat(), c) for d, c in weekly_health(history, today) if first and d >= first]
    return {
        "marker": Trusted(markers.marker(KIND, KEY)),
        "usage_days": rules.history.measure_days,
        "usage_flat": _usage_not_risen(ok, history, today, rules),
        "today": today.isoformat(),
        "total": len(rows),
        "shards": ", ".join(sorted(data.shards)),
        "shard_count": len(data.shards),
        "totals": totals,
        "pre_sales": sum(1 for r in ok if is_pre_sales(r)),
        "grid": _grid(ok),
        "chart_input": (months, months_shown, by_month, weeks),
        "legend": {"bars": BARS_LEGEND, "lines": LINES_LEGEND},
        "weeks": [{"week": w, **_counted(c)} for w, c in weeks],
        "first_day": None if first is None else first.isoformat(),
        "renewal_months": [
            {"month": m, **_counted(by_month[m]), "arr": money(by_month[m]["arr"])}
            for m in months_shown
        ],
        "dollars": _dollars(ok, today),
        "in_triage": _in_triage(ok, history, today, rules),
        "worse": _worse(ok, history, previous),
        "previous": None if previous is None else previous.isoformat(),
        "data": Trusted(
            _data_comment({"date": today.isoformat(), "compared_with": previous.isoformat()})
            if previous
            else _data_comment({"date": today.isoformat()})
        ),
        "per_csm": _per_csm(ok),
        "balance": _balance(ok, rules),
        "time_to_value": time_to_value_rows(ok),
        "renewal_window": months,
        "renewal_window_end": add_months(today, months).isoformat(),
        "renewals": renewals,
        "overdue": _overdue(ok, today),
        "escalations": _escalations(ok),
        "failures": failures,
        "warnings": sorted(set(data.warnings)),
        "failed_shards": [f.to_text() for f in data.failed_shards],
        "history_skipped": list(skipped),
    }


TITLE = "Customer Success portfolio report"


def find_report_issue(gateway: Gateway, accounts: str) -> dict | None:
    """The summary issue. A title search may narrow (1 read on GitLab); only the marker
    decides, and when the search misses (retitled, or a GitLab whose search finds
    nothing) the accounts project is read until the marker shows up: never a second
    summary (SPEC 7.1)."""
    return gateway.find_issue_by_marker(
        accounts, markers.token(KIND, KEY), narrow=[{"search": TITLE, "in": "title"}]
    )


def plan_report_issue(gateway: Gateway, settings: Settings, body: str, today: date) -> Plan:
    """Create, or update in place, the one summary issue in ``projects.accounts``."""
    _, projects = settings.require_layout("report")
    require_internal_projects(gateway, projects)
    plan = Plan()
    token = markers.token(KIND, KEY)
    title = TITLE
    existing = find_report_issue(gateway, projects.accounts)
    if existing is None:
        plan.add(
            "create-issue",
            f"{projects.accounts} portfolio report",
            f"{title!r} ({today})",
            lambda gw, _r: gw.create_issue(projects.accounts, title, body, token),
        )
        return plan
    # GitLab trims trailing whitespace from descriptions: compare without it.
    if (existing.get("description") or "").rstrip() != body.rstrip():
        iid = existing["iid"]

        def update(gw: Gateway, _r: Results) -> dict:
            return gw.update_issue(projects.accounts, iid, description=body)

        plan.add(
            "update-issue",
            f"{projects.accounts}#{iid} (portfolio report)",
            f"report of {today}",
            update,
        )
    return plan


def previous_report(existing: Mapping[str, Any] | None, today: date) -> date | None:
    """The date of the last report (its hidden data); a rerun of the same day compares
    with what that day's first report compared with."""
    if not existing:
        return None
    data = card_data(existing.get("description"))
    when = data.get("compared_with") if data.get("date") == today.isoformat() else data.get("date")
    try:
        return date.fromisoformat(when) if isinstance(when, str) else None
    except ValueError:
        return None


def report_context(
    gateway: Gateway, settings: Settings, today: date
) -> tuple[dict[str, list[HistoryRow]], date | None]:
    """The portfolio history (by account) and the last report's date, read from GitLab;
    nothing when the projects are not configured or the accounts project is missing."""
    from gl_csm.services.triage.history import load_history, window_start

    if settings.projects is None:
        return {}, None
    accounts = settings.projects.accounts
    project = gateway.project(accounts)
    if project is None:
        return {}, None
    previous = previous_report(find_report_issue(gateway, accounts), today)
    # The history the report shows: its trend and measure windows, the 12-week chart
    # (weekly_health) and the health on the previous report's day.
    since = window_start(today, settings.rules.history, today - timedelta(weeks=11), previous)
    history = load_history(gateway, project, today, since)
    return history.grouped(), previous


def build_report(gateway: Gateway, settings: Settings, data: ReportInput, today: date) -> str:
    """The report with the history and the last report's date read from GitLab."""
    history, previous = report_context(gateway, settings, today)
    return render_report(data, today, settings.rules, history=history, previous=previous)


@dataclass(frozen=True)
class PreparedReport:
    """What `gl-csm report` writes: the merged shard results, the Markdown body and the
    portfolio history the dashboard draws from."""

    data: ReportInput
    body: str
    history: dict[str, list[HistoryRow]]


def prepare_report(
    gateway: Gateway,
    settings: Settings,
    today: date,
    paths: Sequence[Path],
    expected: int | None = None,
) -> PreparedReport:
    """Read the shards' results (a bad shard is named, not fatal), the history kept in
    GitLab, and render the report (the CLI writes it, the summary issue plans it)."""
    data = load_results(paths, expected)
    history, previous = report_context(gateway, settings, today)
    body = render_report(data, today, settings.rules, history=history, previous=previous)
    return PreparedReport(data, body, history)
