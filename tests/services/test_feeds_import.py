"""`gl-csm accounts import --feed usage|support|nps`: the figures that go stale fastest come
from exports (docs/registry.md; README "Registry import"), dated, never older than the
registry's, and the accounts left without fresh figures are named."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from gl_csm.config import Settings, load_settings
from gl_csm.domain.assessment import assess
from gl_csm.domain.health import NO_SIGNALS
from gl_csm.errors import ConfigError
from gl_csm.registry import load_registry
from gl_csm.services.moves.accounts_import import plan_feed_import
from tests.cli.test_cli_basics import run

TODAY = date(2026, 12, 2)
USAGE = "Account Slug,As Of,Monthly Active,SCM,CI,DevSecOps,CD,Active Seats\n"


def _csv(workdir: Path, header: str, *rows: str) -> Path:
    path = workdir / "feed.csv"
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def _import(
    settings: Settings, path: Path, feed: str, as_of: date | None = None
) -> tuple[list[str], list[str], list[str]]:
    plan, _ = plan_feed_import(settings, path, feed, TODAY, as_of)
    outcome = plan.apply(None)
    return (
        [f"{c.action} {Path(c.target).name}: {c.detail}" for c in outcome.changes],
        [f.message for f in outcome.failures],
        outcome.notes,
    )


def test_usage_feed_updates_the_figures_and_keeps_the_file(settings: Settings) -> None:
    path = _csv(settings.accounts_dir.parent, USAGE, "hooli,2026-11-30,61%,0.7,0.45,,0.25,330")
    before = (settings.accounts_dir / "hooli.yml").read_text()
    changes, failures, _ = _import(settings, path, "usage")
    assert failures == []
    assert changes == [
        "update-file hooli.yml: changed seats.active, usage.as_of, usage.cd, usage.ci, "
        "usage.monthly_active, usage.scm"
    ]
    after = (settings.accounts_dir / "hooli.yml").read_text()
    # Only the figures' lines changed; the comment, the other keys and the order stay.
    assert after.splitlines()[0] == before.splitlines()[0]
    assert len(after.splitlines()) == len(before.splitlines())
    data = yaml.safe_load(after)
    assert data["usage"] == {
        "as_of": date(2026, 11, 30),
        "monthly_active": 0.61,
        "scm": 0.7,
        "ci": 0.45,
        "devsecops": 0.12,  # an empty cell leaves the value as it is
        "cd": 0.25,
    }
    assert data["seats"] == {"licensed": 400, "active": 330}
    # The same export again changes nothing.
    assert _import(settings, path, "usage")[0] == []


def test_a_row_needs_a_date(settings: Settings) -> None:
    path = _csv(settings.accounts_dir.parent, USAGE, "hooli,,0.6,,,,,")
    changes, failures, _ = _import(settings, path, "usage")
    assert changes == []
    assert failures == [
        f"{path}:2: column 'As Of' (usage.as_of): expected the date of the figures "
        "(usage.as_of: a column, or --as-of DATE), got none"
    ]
    changes, failures, _ = _import(settings, path, "usage", as_of=date(2026, 12, 1))
    assert failures == [] and len(changes) == 1
    assert yaml.safe_load((settings.accounts_dir / "hooli.yml").read_text())["usage"][
        "as_of"
    ] == date(2026, 12, 1)


def test_a_feed_never_creates_an_account(settings: Settings) -> None:
    path = _csv(settings.accounts_dir.parent, USAGE, "new-co,2026-11-30,0.5,,,,,")
    changes, failures, _ = _import(settings, path, "usage")
    assert changes == []
    assert failures == [
        f"{path}:2: column 'Account Slug' (slug): expected an account of the registry (a "
        "feed updates accounts; the CRM import creates them), got 'new-co'"
    ]
    assert not (settings.accounts_dir / "new-co.yml").exists()


def test_older_figures_never_replace_newer_ones(settings: Settings) -> None:
    path = _csv(settings.accounts_dir.parent, USAGE, "hooli,2026-10-01,0.1,0.1,0.1,0.1,0.1,10")
    before = (settings.accounts_dir / "hooli.yml").read_text()
    changes, failures, notes = _import(settings, path, "usage")
    assert changes == [] and failures == []
    assert (
        f"{path}:2: hooli: usage figures of 2026-10-01 are older than the registry's " in (notes[0])
    )
    assert (settings.accounts_dir / "hooli.yml").read_text() == before


def test_stale_feeds_are_named_per_paid_account(settings: Settings) -> None:
    path = _csv(settings.accounts_dir.parent, USAGE, "hooli,2026-11-30,0.6,,,,,")
    plan, stale = plan_feed_import(settings, path, "usage", TODAY)
    stale_slugs = {s.account for s in stale}
    registry = {a.slug: a for a in load_registry(settings.accounts_dir).accounts}
    assert "hooli" not in stale_slugs  # fresh from this export
    for slug in stale_slugs:
        account = registry[slug]
        assert account.customer_since is not None  # pre-sales accounts have no health
        as_of = account.usage.as_of
        assert as_of is None or (TODAY - as_of).days >= 60
    pre_sales = {s for s, a in registry.items() if a.customer_since is None}
    assert pre_sales and not pre_sales & stale_slugs
    fresh = {
        s
        for s, a in registry.items()
        if a.usage.as_of is not None and (TODAY - a.usage.as_of).days < 60
    }
    assert not fresh & stale_slugs
    assert any(n.startswith("Stale usage feed: ") for n in plan.notes)


def test_nps_feed_feeds_the_voice_of_the_customer(settings: Settings) -> None:
    path = _csv(
        settings.accounts_dir.parent, "Account Name,Survey Date,NPS\n", "Hooli,2026-11-15,3"
    )
    changes, failures, _ = _import(settings, path, "nps")
    assert failures == []
    assert changes == ["update-file hooli.yml: changed nps, nps_as_of"]
    hooli = next(a for a in load_registry(settings.accounts_dir).accounts if a.slug == "hooli")
    assert (hooli.nps, hooli.nps_as_of) == (3, date(2026, 11, 15))
    health = assess(hooli, settings.rules, TODAY, NO_SIGNALS).health
    assert health is not None
    nps = next(m for m in health.measures if m.name == "nps")
    assert (nps.value, nps.color) == (3, "red")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("11", "an NPS answer from 0 to 10"),
        ("seven", "an NPS answer from 0 to 10"),
    ],
)
def test_bad_cells_name_the_column(settings: Settings, cell: str, expected: str) -> None:
    path = _csv(
        settings.accounts_dir.parent, "Account Slug,Survey Date,NPS\n", f"hooli,2026-11-15,{cell}"
    )
    _, failures, _ = _import(settings, path, "nps")
    assert failures == [f"{path}:2: column 'NPS' (nps): expected {expected}, got '{cell}'"]


def test_feed_columns_are_config(workdir: Path) -> None:
    config = workdir / "gl-csm.yml"
    config.write_text(
        config.read_text()
        + "feeds:\n  support:\n    columns: {Org: name, Date: support.as_of, Open: "
        "support.tickets_last_30_days}\n"
    )
    settings = load_settings(config, environ={})
    assert settings.feed_columns["support"] == {
        "Org": "name",
        "Date": "support.as_of",
        "Open": "support.tickets_last_30_days",
    }
    path = _csv(workdir, "Org,Date,Open\n", "Hooli,2026-12-01,9")
    changes, failures, _ = _import(settings, path, "support")
    assert failures == []
    assert changes == ["update-file hooli.yml: changed support.as_of, support.tickets_last_30_days"]


@pytest.mark.parametrize(
    ("feeds", "message"),
    [
        (
            "feeds: {usage: {columns: {Slug: slug, Mood: sentiment.health}}}",
            "key 'feeds.usage.columns.Mood': expected a registry key the usage feed owns",
        ),
        ("feeds: {crm: {}}", "unknown key 'feeds.crm'"),
        (
            "feeds: {nps: {columns: {Score: nps}}}",
            "key 'feeds.nps.columns': expected a column for 'name' or 'slug'",
        ),
    ],
)
def test_bad_feed_config_names_the_key(workdir: Path, feeds: str, message: str) -> None:
    config = workdir / "gl-csm.yml"
    config.write_text(config.read_text() + feeds + "\n")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(config, environ={})


def test_cli_feed_json_lists_stale_accounts(workdir: Path) -> None:
    path = _csv(workdir, USAGE, "hooli,2026-11-30,0.6,,,,,")
    code, out, err = run(
        workdir, "--today", "2026-12-02", "accounts", "import", str(path), "--feed", "usage",
        "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    assert [c["target"].rsplit("/", 1)[-1] for c in doc["changes"]] == ["hooli.yml"]
    assert doc["stale_feeds"] and all(s["feed"] == "usage" for s in doc["stale_feeds"])
    assert "hooli" not in {s["account"] for s in doc["stale_feeds"]}


def test_cli_as_of_without_a_feed_is_a_usage_error(workdir: Path) -> None:
    path = _csv(workdir, USAGE)
    code, _, err = run(workdir, "accounts", "import", str(path), "--as-of", "2026-12-01")
    assert code == 2
    assert "--as-of dates a feed's figures: give --feed too" in err
