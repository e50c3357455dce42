"""Hostile or broken registry files and CRM exports.

Registry (SPEC 2): one bad file never stops the others; every error of a file names the
file, the key and the value. Usernames follow doc/user/reserved_names.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from gl_csm.config import Settings
from gl_csm.registry import load_registry
from gl_csm.services.moves.accounts_import import plan_import
from tests.cli.test_cli_basics import run

GOOD = "name: {name}\nsegment: growth\ncustomer_since: 2025-01-01\n"
HEADER = "Account Name,Account Slug,Segment,ARR,Renewal Date,CSM,Licensed Seats,Notes\n"
BOMB = 'name: Bomb\nsegment: growth\na: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
    for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


def _files(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / f"{name}.yml").write_text(text, encoding="utf-8")
    return tmp_path


def _outside(root: Path) -> set[Path]:
    return {
        p
        for p in root.parent.rglob("*")
        if p.is_file() and "accounts" not in p.parts and p.name != "crm.csv"
    }


# ---------------------------------------------------------------- bad dates


def test_impossible_date_is_a_named_error_and_the_others_load(tmp_path: Path) -> None:
    reg = load_registry(
        _files(
            tmp_path,
            good=GOOD.format(name="Good"),
            bad="name: Bad\nsegment: nope\ncustomer_since: 2026-02-30\nseats: {active: -1}\n",
        )
    )
    assert [a.slug for a in reg.accounts] == ["good"]
    assert [(Path(p.file).name, p.key, p.got) for p in reg.problems] == [
        ("bad.yml", "segment", "'nope'"),
        ("bad.yml", "customer_since", "'2026-02-30'"),
        ("bad.yml", "seats.active", "-1"),
    ]


@pytest.mark.parametrize("command", [["triage", "--dry-run"], ["assess"], ["templates", "check"]])
def test_no_command_crashes_on_an_impossible_date(workdir: Path, command: list[str]) -> None:
    (workdir / "accounts" / "zz-bad.yml").write_text(
        "name: Bad\nsegment: growth\nrenewal_date: 2026-02-30\n"
    )
    code, out, err = run(workdir, *command)
    assert code in (1, 2), err
    assert "Traceback" not in err + out
    assert "zz-bad.yml" in err + out and "2026-02-30" in err + out


def test_sandbox_seeding_survives_an_impossible_date(workdir: Path, settings: Settings) -> None:
    """`gl-csm sandbox serve` seeds from the registry (users of the teams)."""
    from gl_csm.runtime import seed_sandbox
    from gl_csm.sandbox import Sandbox

    (workdir / "accounts" / "zz-bad.yml").write_text(
        "name: Bad\nsegment: growth\nrenewal_date: 2026-02-30\n"
    )
    seed_sandbox(Sandbox(), settings)


# ---------------------------------------------------------------- duplicate slugs


def test_two_files_claiming_one_slug_are_both_refused(tmp_path: Path) -> None:
    reg = load_registry(
        _files(
            tmp_path,
            acme=GOOD.format(name="Acme"),
            impostor="name: Impostor\nslug: acme\nsegment: scale\n",
        )
    )
    assert reg.accounts == ()
    assert sorted(Path(p.file).name for p in reg.problems) == ["acme.yml", "impostor.yml"]
    assert all(p.key == "slug" and "'acme'" in str(p) for p in reg.problems)


def test_triage_leaves_a_contested_account_untouched(workdir: Path) -> None:
    (workdir / "accounts" / "zz-impostor.yml").write_text(
        "name: Impostor\nslug: acme-corp\nsegment: scale\n"
    )
    code, out, err = run(workdir, "triage", "--format", "json")
    assert code == 1
    assert "acme-corp" in err + out and "zz-impostor.yml" in err + out
    assert "Impostor" not in (workdir / "sb.json").read_text()


# ---------------------------------------------------------------- slugs, users


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("name: X\nsegment: growth\nslug: ../outside/pwned\n", "slug"),
        ("name: X\nsegment: growth\nslug: -x\n", "slug"),
        ("name: X\nsegment: growth\nparent: /etc\n", "parent"),
        ("name: X\nsegment: growth\nteam: {csm: .carol}\n", "team.csm"),
        ("name: X\nsegment: growth\nteam: {csm: carol.}\n", "team.csm"),
        ("name: X\nsegment: growth\nteam: {csm: ca..rol}\n", "team.csm"),
        ("name: X\nsegment: growth\nteam: {csm: carol.git}\n", "team.csm"),
        (f"name: {'X' * 201}\nsegment: growth\n", "name"),
        ('name: "Evil\\x00Corp"\nsegment: growth\n', "name"),
    ],
)
def test_refused_at_load(tmp_path: Path, text: str, key: str) -> None:
    reg = load_registry(_files(tmp_path, x=text))
    assert reg.accounts == () and [p.key for p in reg.problems] == [key]


def test_valid_usernames_load(tmp_path: Path) -> None:
    text = "name: X\nsegment: growth\nteam: {csm: a, sa: carol.lee, ae: d_e-f2}\n"
    assert load_registry(_files(tmp_path, x=text)).problems == ()


def test_yaml_bomb_in_the_registry_is_refused(tmp_path: Path) -> None:
    reg = load_registry(_files(tmp_path, bomb=BOMB, good=GOOD.format(name="Good")))
    assert [a.slug for a in reg.accounts] == ["good"]
    (problem,) = reg.problems
    assert "alias bomb" in str(problem) and Path(problem.file).name == "bomb.yml"


# ---------------------------------------------------------------- accounts import


def _import(settings: Settings, workdir: Path, body: bytes) -> tuple[list[str], list[str]]:
    path = workdir / "crm.csv"
    path.write_bytes(HEADER.encode() + body)
    outcome = plan_import(settings, path).apply(None)
    return [Path(c.target).name for c in outcome.changes], [f.message for f in outcome.failures]


@pytest.mark.parametrize("slug", ["../outside/pwned", "/tmp/pwned", "-rf", "a/b", "."])
def test_import_refuses_a_slug_that_is_a_path(settings: Settings, workdir: Path, slug: str) -> None:
    before = _outside(workdir)
    written, failures = _import(
        settings, workdir, f"Pwned,{slug},growth,1,,,,\nNewco,newco,growth,1,,,,\n".encode()
    )
    assert written == ["newco.yml"]
    (failure,) = failures
    assert ":2: column 'Account Slug' (slug): expected a slug" in failure
    assert _outside(workdir) == before
    assert not Path("/tmp/pwned.yml").exists()


def test_import_latin1_and_huge_cells_are_row_errors(settings: Settings, workdir: Path) -> None:
    body = (
        "Caf\u00e9 Bar,cafe-bar,growth,1,,,,\n".encode("latin-1")
        + f"Huge,huge,growth,1,,,,{'x' * 200_000}\n".encode()
        + b"Newco,newco,growth,1,,,,\n"
    )
    written, failures = _import(settings, workdir, body)
    assert written == ["newco.yml"]
    assert len(failures) == 2
    assert ":2: column 'Account Name' (name): expected UTF-8 text" in failures[0]
    assert ":3: expected cells of at most 131,072 characters" in failures[1]


def test_import_refuses_a_yaml_bomb_in_a_matched_file(settings: Settings, workdir: Path) -> None:
    (workdir / "accounts" / "bomb.yml").write_text(BOMB)
    written, failures = _import(
        settings, workdir, b"Bomb,bomb,growth,1,,,,\nNewco,newco,growth,1,,,,\n"
    )
    assert written == ["newco.yml"]
    (failure,) = failures
    assert "bomb.yml" in failure and "alias" in failure


def test_a_small_alias_is_still_a_registry_file(tmp_path: Path) -> None:
    """yaml.safe_dump writes &id001/*id001 for a shared value: harmless, accepted."""
    text = "name: Good\nsegment: growth\ncustomer_since: &d 2025-01-01\nonboarding_completed: *d\n"
    reg = load_registry(_files(tmp_path, good=text))
    assert reg.problems == ()
    assert reg.accounts[0].onboarding_completed == reg.accounts[0].customer_since
