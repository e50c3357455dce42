"""`gl-csm accounts import FILE.csv` (SPEC 2): upsert registry files from a CRM export,
keeping every key, comment and the order the CRM does not own."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from gl_csm.config import Settings, load_settings
from gl_csm.errors import ConfigError
from gl_csm.registry import load_registry
from gl_csm.services.moves.accounts_import import (
    CellError,
    convert,
    edit_text,
    plan_import,
    scalar,
    slugify,
)

HEADER = "Account Name,Account Slug,Segment,ARR,Renewal Date,CSM,Licensed Seats,Notes\n"


def _csv(workdir: Path, *rows: str, header: str = HEADER) -> Path:
    path = workdir / "crm.csv"
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def _apply(settings: Settings, path: Path) -> tuple[list[str], list[str]]:
    outcome = plan_import(settings, path).apply(None)
    return [f"{c.action} {Path(c.target).name}" for c in outcome.changes], [
        f.message for f in outcome.failures
    ]


@pytest.mark.parametrize(
    ("key", "raw", "value"),
    [
        ("arr", "275,000", 275000),
        ("arr", "$1200.50", 1200.5),
        ("seats.licensed", "1,100", 1100),
        ("renewal_date", "2027-09-30", date(2027, 9, 30)),
        ("renewal_date", "2027-09-30T00:00:00Z", date(2027, 9, 30)),
        ("public_sector", "Yes", True),
        ("segment", "Strategic", "strategic"),
        ("deployment", "Self Managed", "self-managed"),
        ("team.csm", " alice ", "alice"),
    ],
)
def test_convert_cells(key: str, raw: str, value: object) -> None:
    assert convert(key, raw) == value


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("arr", "lots"),
        ("seats.licensed", "1.5"),
        ("renewal_date", "31/12/2027"),
        ("renewal_date", "2027-02-30"),
        ("public_sector", "maybe"),
    ],
)
def test_convert_rejects_bad_cells(key: str, raw: str) -> None:
    with pytest.raises(CellError):
        convert(key, raw)


def test_slugify_and_scalar_quoting() -> None:
    assert slugify("Stark Industries, Inc.") == "stark-industries-inc"
    assert scalar("yes") == "'yes'" and scalar("a, b") == "'a, b'" and scalar(12) == "12"


def test_line_edit_keeps_comments_order_and_other_keys() -> None:
    text = (
        "# header comment\n"
        "name: Acme   # the legal name\n"
        "segment: strategic\n"
        "seats: {licensed: 10, active: 5}\n"
        "team:\n"
        "  csm: alice  # since 2025\n"
        "  # a comment inside\n"
        "  ae: carol\n"
        "sentiment: {health: yellow}\n"
    )
    new = edit_text(
        text,
        {
            "name": "Acme Corp",
            "seats.licensed": 12,
            "team.csm": "bob",
            "team.sa": "sam",
            "arr": 5,
            "renewal_date": date(2027, 1, 2),
        },
    )
    assert new == (
        "# header comment\n"
        "name: Acme Corp   # the legal name\n"
        "segment: strategic\n"
        "seats: {licensed: 12, active: 5}\n"
        "team:\n"
        "  csm: bob  # since 2025\n"
        "  # a comment inside\n"
        "  ae: carol\n"
        "  sa: sam\n"
        "sentiment: {health: yellow}\n"
        "arr: 5\n"
        "renewal_date: 2027-01-02\n"
    )


def test_upsert_existing_changes_only_mapped_keys(settings: Settings, workdir: Path) -> None:
    acme = workdir / "accounts" / "acme-corp.yml"
    before = acme.read_text()
    path = _csv(workdir, 'Acme Corp,,,"275,000",2027-09-30,,1100,ignored')
    assert _apply(settings, path) == (["update-file acme-corp.yml"], [])
    after = acme.read_text()
    changed = [
        (a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b
    ]
    assert changed == [
        ("arr: 650000", "arr: 275000"),
        ("seats: {licensed: 1200, active: 1010}", "seats: {licensed: 1100, active: 1010}"),
        ("renewal_date: 2027-02-28", "renewal_date: 2027-09-30"),
    ]
    data = yaml.safe_load(after)
    assert data["sentiment"] == yaml.safe_load(before)["sentiment"]  # CSM-owned, untouched


def test_new_account_gets_a_valid_new_file(settings: Settings, workdir: Path) -> None:
    path = _csv(workdir, "New Co,,Growth,120000,2027-12-31,bob,,")
    assert _apply(settings, path) == (["create-file new-co.yml"], [])
    text = (workdir / "accounts" / "new-co.yml").read_text()
    assert text.splitlines()[1:] == [
        "name: New Co",
        "segment: growth",
        "arr: 120000",
        "renewal_date: 2027-12-31",
        "team: {csm: bob}",
    ]
    (account,) = load_registry(workdir / "accounts", ["new-co"]).accounts
    assert account.segment == "growth" and account.team.csm == "bob"


def test_bad_rows_name_line_and_column_and_good_rows_still_go(
    settings: Settings, workdir: Path
) -> None:
    path = _csv(
        workdir,
        "Acme Corp,,,lots,,,,",
        'Globex Corporation,,"Big, very",,,,,',
        "Brand New,,,,,,,",
        "Initech,,,,2027-01-31,,,",
        "Umbrella Health,,,,,bad user!,,",
        "Umbrella,,,,,,,",
    )
    changes, failures = _apply(settings, path)
    assert changes == ["update-file initech.yml"]
    assert failures == [
        f"{path}:2: column 'ARR' (arr): expected an amount in USD like 250000 or 250,000.00, "
        "got 'lots'",
        f"{path}:3: column 'Segment' (segment): expected one of strategic, growth, scale, "
        "commercial, got 'big,-very'",
        f"{path}:4: column 'Segment' (segment): expected one of strategic, growth, scale, "
        "commercial (required), got null",
        f"{path}:6: column 'CSM' (team.csm): expected a GitLab username (letters, digits, "
        "'_', '.', '-'; starting and ending with a letter or digit; no two of '_.-' in a row; "
        "not a reserved name such as 'all'), "
        "got 'bad user!'",
        f"{path}:7: column 'Account Name' (name): expected the name of the account in "
        "umbrella.yml, or a new one, got 'Umbrella'",
    ]
    assert not (workdir / "accounts" / "brand-new.yml").exists()


def test_rerun_and_dry_run_change_nothing(settings: Settings, workdir: Path) -> None:
    path = _csv(workdir, "Acme Corp,,,300000,,dana,,", "New Co,,commercial,1,,,,")
    plan = plan_import(settings, path)
    assert len(plan.changes) == 2
    assert not (workdir / "accounts" / "new-co.yml").exists()  # planning writes nothing
    _apply(settings, path)
    snapshot = {p.name: p.read_text() for p in (workdir / "accounts").iterdir()}
    assert _apply(settings, path) == ([], [])
    assert {p.name: p.read_text() for p in (workdir / "accounts").iterdir()} == snapshot


def test_match_by_slug_and_slug_conflicting_with_name(settings: Settings, workdir: Path) -> None:
    path = _csv(workdir, "Whatever Name,acme-corp,,,,,,", "Acme Corp,acme-2,,,,,,")
    changes, failures = _apply(settings, path)
    assert changes == ["update-file acme-corp.yml"]
    assert len(failures) == 1 and "column 'Account Slug' (slug)" in failures[0]


def test_same_account_twice_in_one_csv(settings: Settings, workdir: Path) -> None:
    path = _csv(workdir, "Acme Corp,,,1,,,,", "acme corp,,,2,,,,")
    changes, failures = _apply(settings, path)
    assert changes == ["update-file acme-corp.yml"]
    assert failures == [f"{path}:3: account of acme-corp.yml is already imported from line 2"]


def test_custom_mapping_from_config(workdir: Path) -> None:
    config = workdir / "gl-csm.yml"
    config.write_text(
        config.read_text() + "crm_import:\n  columns: {Customer: name, 'Owner (CSM)': team.csm}\n"
    )
    settings = load_settings(config, environ={})
    assert settings.crm_columns == {"Customer": "name", "Owner (CSM)": "team.csm"}
    path = _csv(workdir, "Acme Corp,zed", header="Customer,Owner (CSM)\n")
    assert _apply(settings, path) == (["update-file acme-corp.yml"], [])
    assert "csm: zed" in (workdir / "accounts" / "acme-corp.yml").read_text()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("crm_import: {columns: {Mood: sentiment.health}}", "crm_import.columns.Mood"),
        ("crm_import: {columns: {A: arr, B: arr}}", "mapped twice"),
        ("crm_import: {columns: {ARR: arr}}", "'name' or 'slug'"),
        ("crm_import: {mapping: {}}", "unknown key 'crm_import.mapping'"),
        ("crm_import: [1]", "expected a mapping"),
    ],
)
def test_mapping_errors_are_config_errors(workdir: Path, section: str, message: str) -> None:
    config = workdir / "gl-csm.yml"
    config.write_text(config.read_text() + section + "\n")
    with pytest.raises(ConfigError, match="crm_import") as info:
        load_settings(config, environ={})
    assert message in str(info.value)


def test_import_adds_no_key_that_only_repeats_a_default(settings: Settings, workdir: Path) -> None:
    """The slug is the file name and public_sector defaults to false (SPEC 2): a CRM
    export repeating them adds no `slug:` / `public_sector: false` lines to the MR diff."""
    acme = workdir / "accounts" / "acme-corp.yml"
    before = acme.read_text()
    assert "slug:" not in before and "public_sector" not in before
    path = _csv(
        workdir,
        "Acme Corp,acme-corp,No,650000,strategic",
        "New Co,new-co,No,1000,scale",
        header="Account Name,Account Slug,Public Sector,ARR,Segment\n",
    )
    changes, failures = _apply(settings, path)
    assert failures == [] and changes == ["create-file new-co.yml"]
    assert acme.read_text() == before
    created = (workdir / "accounts" / "new-co.yml").read_text()
    assert "slug:" not in created and "public_sector" not in created and "arr: 1000" in created
