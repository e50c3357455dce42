"""A dashboard built from real triage runs: 24 accounts, 15 days of drifting data,
in-process sandbox, then `gl-csm report --html` over the run's results."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from gl_csm.dashboard.build import build_dashboard
from gl_csm.services.triage.report import load_results, render_report, report_context
from tests.services.test_history_simulation import _generate, _write
from tests.services.triage_world import RED, World

START = date(2026, 11, 1)


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dash")
    world = World(root, today=START)
    rng = random.Random(3)
    accounts = _generate(world, rng, n=24)
    run = None
    for offset in range(15):
        day = START + timedelta(days=offset)
        for slug in rng.sample([s for s in sorted(accounts) if s != "acct-003"], 3):
            data = accounts[slug]
            usage = dict(data["usage"], as_of=day)
            usage["monthly_active"] = round(max(0.05, usage["monthly_active"] - 0.15), 2)
            data["usage"] = usage
            _write(world, slug, data)
        if offset == 5:
            accounts["acct-003"].update(RED)
            _write(world, "acct-003", accounts["acct-003"])
        _, run, _ = world.run(day)
    assert run is not None
    results = root / "triage.json"
    results.write_text(json.dumps(run.extra()))
    # What `gl-csm report --html` does, on the world's sandbox (the history the runs
    # committed there).
    history, previous = report_context(world.gateway, world.settings, world.today)
    data = load_results([results])
    out = root / "site"
    build_dashboard(out, data.accounts, history, world.today, world.settings.rules)
    assert "Accounts in triage" in render_report(
        data, world.today, world.settings.rules, history=history, previous=previous
    )
    return out
