"""Reads of each single-account command at N accounts (a script, not a test).

Generates N accounts (bench_triage.generate), runs setup and one full triage against
an in-process sandbox whose issue search finds nothing (``Sandbox(search="none")``:
the bot must not depend on it), then counts the API reads and writes of one account's
commands: react (a sentiment label on its tracking issue), onboard (first and rerun),
promote (rerun), disengage (first and rerun), handoff (first), report --issue (rerun).

    python benchmarks/bench_single_account.py --accounts 10 5000 [--search none|fulltext]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_triage import CONFIG, TODAY, generate  # noqa: E402

from gl_csm import markers  # noqa: E402
from gl_csm.config import load_settings  # noqa: E402
from gl_csm.gitlab.gateway import Gateway  # noqa: E402
from gl_csm.runtime import seed_sandbox  # noqa: E402
from gl_csm.sandbox import Sandbox, SandboxAdapter  # noqa: E402
from gl_csm.services.collaboration.onboard import plan_onboard  # noqa: E402
from gl_csm.services.collaboration.promote import plan_promote  # noqa: E402
from gl_csm.services.moves.disengage import plan_disengage  # noqa: E402
from gl_csm.services.moves.handoff import plan_handoff  # noqa: E402
from gl_csm.services.react import react  # noqa: E402
from gl_csm.services.setup import plan_setup  # noqa: E402
from gl_csm.services.triage.report import ReportInput, plan_report_issue, render_report  # noqa: E402
from gl_csm.services.triage.run import plan_triage  # noqa: E402
from tests.services.react_support import issue_hook  # noqa: E402

ACCOUNTS = "customer-success/accounts"


def measure(n: int, search: str) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"bench-single-{n}-"))
    (work / "gl-csm.yml").write_text(yaml.safe_dump(CONFIG))
    generate(work / "accounts", n)
    settings = load_settings(work / "gl-csm.yml", environ={})
    sandbox = Sandbox(search=search)
    seed_sandbox(sandbox, settings, extra_users=["new-csm"])
    sandbox.seed(members=[(ACCOUNTS, "new-csm", 20)])
    gw = Gateway.for_transport(SandboxAdapter(sandbox))
    plan_setup(gw, settings).apply(gw)
    run = plan_triage(gw, settings, TODAY)
    run.plan.apply(gw)
    body = render_report(
        ReportInput(accounts={r["slug"]: r for r in run.extra()["accounts"]}), TODAY, settings.rules
    )
    plan_report_issue(gw, settings, body, TODAY).apply(gw)
    issues = len(gw.issues(ACCOUNTS, state="all"))
    slug = sorted(p.stem for p in (work / "accounts").glob("*.yml"))[n // 2]

    out: dict[str, Any] = {"accounts": n, "issues_in_accounts_project": issues, "search": search}

    def count(name: str, step) -> None:  # type: ignore[no-untyped-def]
        before = gw.stats
        step()
        after = gw.stats
        out[name] = {"reads": after.reads - before.reads, "writes": after.writes - before.writes}

    def do(plan_of):  # type: ignore[no-untyped-def]
        return lambda: plan_of().apply(gw)

    tracking = markers.index_by_marker(gw.issues(ACCOUNTS, state="all"), "tracking")[slug]
    issue = gw.update_issue(ACCOUNTS, tracking["iid"], add_labels="sentiment::yellow")
    hook = issue_hook(ACCOUNTS, issue, added=["sentiment::yellow"])
    count("react sentiment", lambda: react(gw, settings, TODAY, hook))
    count("react again", lambda: react(gw, settings, TODAY, hook))
    count("onboard first", do(lambda: plan_onboard(gw, settings, slug, TODAY)))
    count("onboard rerun", do(lambda: plan_onboard(gw, settings, slug, TODAY)))
    count("promote rerun", do(lambda: plan_promote(gw, settings, slug, TODAY)))
    count("disengage first", do(lambda: plan_disengage(gw, settings, slug, TODAY)))
    count("disengage rerun", do(lambda: plan_disengage(gw, settings, slug, TODAY)))
    count("handoff first", do(lambda: plan_handoff(gw, settings, slug, "new-csm", TODAY)))
    count("report --issue rerun", do(lambda: plan_report_issue(gw, settings, body, TODAY)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, nargs="+", default=[10, 5000])
    parser.add_argument("--search", choices=("none", "fulltext"), default="none")
    args = parser.parse_args()
    for n in args.accounts:
        print(json.dumps(measure(n, args.search)), flush=True)


if __name__ == "__main__":
    main()
