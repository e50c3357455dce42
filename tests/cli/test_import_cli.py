"""CLI of `gl-csm accounts import FILE.csv` (SPEC 2, SPEC 7 contract and exit codes)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli_basics import run

CSV = (
    "Account Name,Segment,ARR,Renewal Date,CSM\n"
    "Acme Corp,,700000,,\n"
    "New Co,commercial,90000,2027-06-30,bob\n"
)


def _csv(workdir: Path, text: str = CSV) -> str:
    path = workdir / "crm.csv"
    path.write_text(text, encoding="utf-8-sig")  # Excel writes a BOM
    return str(path)


def test_dry_run_then_apply_then_rerun(workdir: Path) -> None:
    csv_file = _csv(workdir)
    before = (workdir / "accounts" / "acme-corp.yml").read_text()
    code, out, err = run(
        workdir, "accounts", "import", csv_file, "--dry-run", "--format", "json", "--stats"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert [(c["action"], c["target"].rsplit("/", 1)[-1], c["detail"]) for c in doc["changes"]] == [
        ("update-file", "acme-corp.yml", "changed arr"),
        ("create-file", "new-co.yml", "new account (arr, name, renewal_date, segment, team.csm)"),
    ]
    assert doc["stats"] == {"reads": 0, "writes": 0}
    assert (workdir / "accounts" / "acme-corp.yml").read_text() == before
    assert not (workdir / "accounts" / "new-co.yml").exists()

    code, out, err = run(workdir, "accounts", "import", csv_file)
    assert code == 0, err
    assert "Done: 2 change(s)" in out and "built-in sandbox" not in err
    assert "arr: 700000" in (workdir / "accounts" / "acme-corp.yml").read_text()

    code, out, _ = run(workdir, "accounts", "import", csv_file)
    assert code == 0 and "Nothing to change." in out


def test_bad_row_exit_1_names_line_and_column(workdir: Path) -> None:
    csv_file = _csv(workdir, CSV + "Bad Co,strategic,1,someday,\n")
    code, out, err = run(workdir, "accounts", "import", csv_file)
    assert code == 1
    assert "Done: 2 change(s)" in out
    assert f"{csv_file}:4: column 'Renewal Date' (renewal_date): expected a date YYYY-MM-DD" in err


def test_mapping_error_in_config_exit_2(workdir: Path) -> None:
    config = workdir / "gl-csm.yml"
    config.write_text(config.read_text() + "crm_import:\n  columns: {Risk: risk.contraction}\n")
    code, _, err = run(workdir, "accounts", "import", _csv(workdir))
    assert code == 2 and "crm_import.columns.Risk" in err and "Traceback" not in err


def test_csv_without_name_or_slug_column_exit_2(workdir: Path) -> None:
    code, _, err = run(workdir, "accounts", "import", _csv(workdir, "ARR\n1\n"))
    assert code == 2 and "'Account Name' or 'Account Slug'" in err


def test_missing_csv_exit_2(workdir: Path) -> None:
    code, _, err = run(workdir, "accounts", "import", str(workdir / "nope.csv"))
    assert code == 2 and "nope.csv" in err
