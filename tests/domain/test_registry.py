"""Registry loading (SPEC 2): one bad file never stops the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from gl_csm.errors import UsageError
from gl_csm.registry import load_registry

GOOD = "name: {name}\nsegment: growth\ncustomer_since: 2025-01-01\n"


def write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


@pytest.fixture
def registry_dir(tmp_path: Path) -> Path:
    write(tmp_path, "alpha.yml", GOOD.format(name="Alpha"))
    write(tmp_path, "beta.yaml", GOOD.format(name="Beta"))
    write(tmp_path, "broken.yml", "name: Broken\nsegment: [growth\n")
    write(tmp_path, "negative.yml", "name: Neg\nsegment: scale\nseats: {active: -3}\n")
    write(tmp_path, "zeta.yml", "name: Zeta\nslug: alpha\nsegment: scale\n")
    write(tmp_path, "notes.txt", "not an account")
    return tmp_path


def test_bad_files_are_problems_and_the_others_load(registry_dir: Path) -> None:
    reg = load_registry(registry_dir)
    # Two files claiming "alpha" are both refused, the account untouched.
    assert [a.slug for a in reg.accounts] == ["beta"]
    assert [Path(p.file).name for p in reg.problems] == [
        "alpha.yml",
        "broken.yml",
        "negative.yml",
        "zeta.yml",
    ]
    first, broken, negative, duplicate = reg.problems
    assert first.key == "slug" and "zeta.yml" in first.expected
    assert broken.expected == "valid YAML" and "line" in broken.got
    assert str(negative) == (
        f"{registry_dir}/negative.yml: key 'seats.active': expected a non-negative integer, got -3"
    )
    assert duplicate.key == "slug" and "alpha.yml" in duplicate.expected


def test_source_is_the_file_path(registry_dir: Path) -> None:
    reg = load_registry(registry_dir)
    assert reg.accounts[0].source == str(registry_dir / "beta.yaml")


def test_requested_slugs_only(registry_dir: Path) -> None:
    reg = load_registry(registry_dir, ["beta"])
    assert [a.slug for a in reg.accounts] == ["beta"]
    assert reg.problems == ()


def test_requested_broken_file_is_a_problem_not_a_usage_error(registry_dir: Path) -> None:
    reg = load_registry(registry_dir, ["negative"])
    assert reg.accounts == () and len(reg.problems) == 1


def test_unknown_slug_is_a_usage_error(registry_dir: Path) -> None:
    with pytest.raises(UsageError, match="'nope'"):
        load_registry(registry_dir, ["alpha", "nope"])


def test_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="missing"):
        load_registry(tmp_path / "missing")


def test_empty_file_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path, "empty.yml", "")
    reg = load_registry(tmp_path)
    assert reg.accounts == () and reg.problems[0].expected.startswith("a mapping")


def test_sample_registry_loads_cleanly() -> None:
    reg = load_registry(Path(__file__).resolve().parents[2] / "accounts")
    assert reg.problems == ()
    accounts = reg.by_slug()
    segments = {a.segment for a in reg.accounts}
    assert segments == {"strategic", "growth", "scale", "commercial"}
    assert any(a.pre_sales for a in reg.accounts)
    assert any(a.public_sector or a.region == "PUBSEC" for a in reg.accounts)
    assert any(a.digital for a in reg.accounts)
    assert any(a.parent in accounts and not a.managed for a in reg.accounts)
    assert any(
        a.risk.contraction and a.risk.types and a.risk.reasons and a.risk.impacts
        for a in reg.accounts
    )
