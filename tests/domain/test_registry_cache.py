"""The registry cache (README "Registry cache"): an unchanged file is not parsed again,
and nothing about what a run reports changes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import gl_csm.registry as registry_module
from gl_csm import registry_cache
from gl_csm.config import load_settings
from gl_csm.registry import load_registry

FULL = """\
name: Full
segment: strategic
region: EMEA
public_sector: true
arr: 120000.5
plan: ultimate
deployment: saas
seats: {licensed: 100, active: 80}
usage: {as_of: 2026-10-01, monthly_active: 0.7, scm: 1, ci: 0.5}
version: {current: 17.5, latest: '18.2'}
customer_since: 2024-01-15
renewal_date: 2027-01-15
opportunities: [{type: uptier, close_date: 2027-01-01}, {type: growth}]
stages_adopted: [create, verify]
engagement: {last_call: 2026-11-01, contacts: 3, personas_last_90_days: [security-lead]}
support: {tickets_last_30_days: 0, emergency_open: true}
sentiment: {health: red, needs_triage: true, updated: 2026-11-20}
risk: {contraction: true, types: [cost-budget], reasons: [loss-of-budget]}
exception: {priority: 2, reason: board-level sponsor}
team: {csm: ada, sa: bob}
nps: 0
managed: false
"""
SMALL = "name: Small\nsegment: growth\ncustomer_since: 2025-01-01\n"


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sources whose YAML is parsed."""
    calls: list[str] = []
    real = registry_module.load_yaml

    def load_yaml(raw: bytes, source: str) -> object:
        calls.append(Path(source).name)
        return real(raw, source)

    monkeypatch.setattr(registry_module, "load_yaml", load_yaml)
    return calls


@pytest.fixture
def accounts(tmp_path: Path) -> Path:
    directory = tmp_path / "accounts"
    directory.mkdir()
    (directory / "full.yml").write_text(FULL, encoding="utf-8")
    (directory / "small.yml").write_text(SMALL, encoding="utf-8")
    return directory


def test_an_unchanged_file_is_not_parsed_again(
    accounts: Path, tmp_path: Path, counted: list[str]
) -> None:
    cache = tmp_path / "cache"
    first = load_registry(accounts, cache=cache)
    assert counted == ["full.yml", "small.yml"] and not first.problems
    counted.clear()
    second = load_registry(accounts, cache=cache)
    assert counted == []
    # Equal, and of the same types (a tuple stays a tuple, a date a date).
    assert second == first
    assert second == load_registry(accounts)
    full = second.by_slug()["full"]
    assert full.stages_adopted == ("create", "verify")
    assert full.opportunities[1].close_date is None
    assert type(full.arr) is float and full.nps == 0 and full.managed is False


def test_a_changed_file_is_parsed_again(accounts: Path, tmp_path: Path, counted: list[str]) -> None:
    cache = tmp_path / "cache"
    load_registry(accounts, cache=cache)
    (accounts / "small.yml").write_text(SMALL.replace("Small", "Smaller"), encoding="utf-8")
    counted.clear()
    registry = load_registry(accounts, cache=cache)
    assert counted == ["small.yml"]
    assert registry.by_slug()["small"].name == "Smaller"
    counted.clear()
    load_registry(accounts, cache=cache)
    assert counted == []


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "",
        "[]",
        '{"schema": "another", "entries": {}}',
        "\xff\xfe",
        None,  # the right schema, entries that are not accounts
    ],
)
def test_a_corrupt_or_foreign_cache_is_ignored(
    accounts: Path, tmp_path: Path, counted: list[str], text: str | None
) -> None:
    cache = tmp_path / "cache"
    expected = load_registry(accounts)
    cache.mkdir()
    if text is None:
        text = json.dumps(
            {
                "schema": registry_cache.schema(),
                "entries": {str(accounts / "small.yml"): ["x", {"$": "Nope"}]},
            }
        )
    registry_cache.cache_file(cache).write_text(text, encoding="utf-8", errors="surrogateescape")
    counted.clear()
    assert load_registry(accounts, cache=cache) == expected
    assert counted == ["full.yml", "small.yml"]
    counted.clear()  # ... and rebuilt
    assert load_registry(accounts, cache=cache) == expected
    assert counted == []


def test_a_cache_of_another_parser_is_ignored(
    accounts: Path, tmp_path: Path, counted: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    load_registry(accounts, cache=cache)
    monkeypatch.setattr(registry_cache, "schema", lambda: "another gl-csm")
    counted.clear()
    load_registry(accounts, cache=cache)
    assert counted == ["full.yml", "small.yml"]


def test_an_invalid_file_is_a_problem_on_every_run(
    accounts: Path, tmp_path: Path, counted: list[str]
) -> None:
    cache = tmp_path / "cache"
    load_registry(accounts, cache=cache)
    # A file that was valid (and cached) turns invalid: reported, never the old account.
    (accounts / "small.yml").write_text(SMALL + "seats: {active: -1}\n", encoding="utf-8")
    for _ in range(3):
        counted.clear()
        registry = load_registry(accounts, cache=cache)
        assert counted == ["small.yml"]
        assert [a.slug for a in registry.accounts] == ["full"]
        assert [(Path(p.file).name, p.key) for p in registry.problems] == [
            ("small.yml", "seats.active")
        ]
        plain = load_registry(accounts)
        assert registry.accounts == plain.accounts
        assert [str(p) for p in registry.problems] == [str(p) for p in plain.problems]


def test_a_link_is_refused_and_never_cached(
    accounts: Path, tmp_path: Path, counted: list[str]
) -> None:
    cache = tmp_path / "cache"
    outside = tmp_path / "outside.yml"
    outside.write_text(SMALL.replace("Small", "Linked"), encoding="utf-8")
    os.symlink(outside, accounts / "linked.yml")
    for _ in range(2):
        registry = load_registry(accounts, cache=cache)
        assert [(Path(p.file).name, p.got) for p in registry.problems] == [
            ("linked.yml", "a symbolic link")
        ]
    entries = registry_cache.read(cache)
    assert sorted(Path(s).name for s in entries) == ["full.yml", "small.yml"]
    # The link replaced by the very bytes of a cached file is still refused.
    (accounts / "linked.yml").unlink()
    os.symlink(accounts / "small.yml", accounts / "linked.yml")
    assert [p.got for p in load_registry(accounts, cache=cache).problems] == ["a symbolic link"]


def test_a_cache_file_that_is_a_link_is_not_read(
    accounts: Path, tmp_path: Path, counted: list[str]
) -> None:
    cache = tmp_path / "cache"
    load_registry(accounts, cache=tmp_path / "real")
    cache.mkdir()
    os.symlink(registry_cache.cache_file(tmp_path / "real"), registry_cache.cache_file(cache))
    counted.clear()
    load_registry(accounts, cache=cache)
    assert counted == ["full.yml", "small.yml"]


def test_an_oversized_file_is_refused_and_never_cached(accounts: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    big = SMALL + "#" * registry_module.MAX_FILE_BYTES + "\n"
    (accounts / "big.yml").write_text(big, encoding="utf-8")
    for _ in range(2):
        problems = load_registry(accounts, cache=cache).problems
        assert [Path(p.file).name for p in problems] == ["big.yml"]
    assert "big.yml" not in {Path(s).name for s in registry_cache.read(cache)}


def test_a_read_only_cache_directory_is_no_error(accounts: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    assert load_registry(accounts, cache=blocker / "cache") == load_registry(accounts)


def test_the_cache_lives_beside_the_config_or_where_the_environment_says(
    tmp_path: Path,
) -> None:
    config = tmp_path / "gl-csm.yml"
    config.write_text("accounts: accounts/\n", encoding="utf-8")
    assert load_settings(config, environ={}).cache_dir == tmp_path / ".gl-csm-cache"
    elsewhere = {"GL_CSM_CACHE_DIR": str(tmp_path / "ci-cache")}
    assert load_settings(config, environ=elsewhere).cache_dir == tmp_path / "ci-cache"
    assert load_settings(config, environ={"GL_CSM_CACHE_DIR": "off"}).cache_dir is None
    assert load_settings(tmp_path / "none.yml", environ={}).cache_dir is None


def test_every_sample_account_is_cached(tmp_path: Path) -> None:
    """Every value an account holds survives the cache (none is silently left out)."""
    root = Path(__file__).resolve().parents[2]
    registry = load_registry(root / "accounts")
    assert registry.accounts
    for account in registry.accounts:
        assert registry_cache.encode_entry(("key", account)) is not None, account.slug


def test_assess_twice_reads_the_cache_and_still_reports_a_bad_file(
    workdir: Path, counted: list[str]
) -> None:
    """`gl-csm assess` keeps the cache beside gl-csm.yml: the second run parses only the
    file with a problem, and reports it again (exit 1), with the same rows."""
    from click.testing import CliRunner

    from gl_csm.cli import main

    (workdir / "accounts" / "broken.yml").write_text("name: Broken\nsegment: enterprise\n")
    outputs = []
    for _ in range(2):
        counted.clear()
        result = CliRunner().invoke(
            main,
            ["--config", str(workdir / "gl-csm.yml"), "--today", "2026-11-23", "assess"],
            env={"GL_CSM_CACHE_DIR": None, "GITLAB_URL": "", "CI_SERVER_URL": ""},
            catch_exceptions=False,
        )
        assert result.exit_code == 1 and "broken.yml" in result.stderr
        outputs.append((result.stdout, result.stderr))
    assert counted == ["broken.yml"]
    assert outputs[0] == outputs[1]
    assert registry_cache.cache_file(workdir / ".gl-csm-cache").is_file()
