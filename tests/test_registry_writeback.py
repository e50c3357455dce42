"""The one line editor and atomic writer all registry writers share
(onboard/promote ``project:``, handoff ``team.csm``, ``accounts import``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gl_csm.errors import GlCsmError
from gl_csm.registry_writeback import RegistryEditError, edit_text, scalar, write_atomically


def test_scalar_quotes_only_what_yaml_would_misread() -> None:
    assert [scalar(v) for v in ("erin", "g/a", 12, True, date(2027, 1, 2))] == [
        "erin",
        "g/a",
        "12",
        "true",
        "2027-01-02",
    ]
    assert [scalar(v) for v in ("yes", "null", "1234", "2027-01-02", "a: b")] == [
        "'yes'",
        "'null'",
        "'1234'",
        "'2027-01-02'",
        "'a: b'",
    ]
    assert scalar("true", quote='"') == '"true"' and scalar("erin", quote='"') == "erin"


@pytest.mark.parametrize(
    ("text", "first", "expected"),
    [
        ("team: {sa: bob}  # t\n", False, "team: {sa: bob, csm: erin}  # t\n"),
        ("team: {sa: bob}  # t\n", True, "team: {csm: erin, sa: bob}  # t\n"),
        ("team:\n  # c\n  sa: bob\nx: 1\n", False, "team:\n  # c\n  sa: bob\n  csm: erin\nx: 1\n"),
        ("team:\n  # c\n  sa: bob\nx: 1\n", True, "team:\n  # c\n  csm: erin\n  sa: bob\nx: 1\n"),
        ("team: ~\n", False, "team: {csm: erin}\n"),
        ("x: 1", False, "x: 1\nteam: {csm: erin}\n"),
    ],
)
def test_edit_text_adds_a_nested_key_last_or_first(text: str, first: bool, expected: str) -> None:
    assert edit_text(text, {"team.csm": "erin"}, first=first) == expected


def test_edit_text_sets_top_level_keys_in_place_or_at_the_end() -> None:
    text = "name: A  # legal\r\nproject: old\r\n"
    assert edit_text(text, {"project": "g/b", "arr": 5}) == (
        "name: A  # legal\r\nproject: g/b\r\narr: 5\r\n"
    )


@pytest.mark.parametrize("text", ["team: bob\n", "team: [a, b]\n", "- a\n", "a: [\n"])
def test_edit_text_refuses_layouts_it_cannot_edit_safely(text: str) -> None:
    with pytest.raises(RegistryEditError):
        edit_text(text, {"team.csm": "erin"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # anchors, aliases and merge keys are kept (ruamel.yaml round trip)
        ("team: &a {csm: x}\nx: 1\n", "team: &a {csm: erin}\nx: 2\n"),
        (
            "d: &d {sa: z}\nteam: {<<: *d, csm: x}  # merged\nx: 1\n",
            "d: &d {sa: z}\nteam: {<<: *d, csm: erin}  # merged\nx: 2\n",
        ),
        # a mapping shared through an alias: only this place changes, the other keeps x
        ("d: &d {csm: x}\nteam: *d\nx: 1\n", "d: &d {csm: x}\nteam: {csm: erin}\nx: 2\n"),
        # nested flow collections, '#' inside quotes, comments and blank lines
        (
            'team: {sa: [a, b], a: "#x"}  # t\n\n# tail\nx: 1   # one\n',
            'team: {sa: [a, b], a: "#x", csm: erin}  # t\n\n# tail\nx: 2   # one\n',
        ),
        # block layouts with a sequence indented under its key
        (
            "opps:\n  - {type: growth}\nteam:\n    sa: b\nx: 1\n",
            "opps:\n  - {type: growth}\nteam:\n    sa: b\n    csm: erin\nx: 2\n",
        ),
    ],
)
def test_edit_text_keeps_anchors_merge_keys_and_layouts(text: str, expected: str) -> None:
    assert edit_text(text, {"team.csm": "erin", "x": 2}) == expected


def test_every_sample_registry_file_round_trips_byte_for_byte() -> None:
    """Setting a key to its own value changes no byte of any sample file."""
    import yaml

    root = Path(__file__).resolve().parent.parent / "accounts"
    for path in sorted(root.glob("*.yml")):
        text = path.read_text()
        name = yaml.safe_load(text)["name"]
        assert edit_text(text, {"name": name}) == text, path.name


def test_write_atomically_can_refuse_a_file_changed_since_the_plan(tmp_path: Path) -> None:
    file = tmp_path / "a.yml"
    file.write_text("name: A\n")
    file.chmod(0o600)
    write_atomically(file, "name: B\n")
    assert file.read_text() == "name: B\n" and file.stat().st_mode & 0o777 == 0o600
    with pytest.raises(GlCsmError, match="changed on disk"):
        write_atomically(file, "name: C\n", check_unchanged=True, old_text="name: A\n")
    assert file.read_text() == "name: B\n"
    new = tmp_path / "new.yml"
    write_atomically(new, "name: N\n", check_unchanged=True, old_text=None)
    assert new.read_text() == "name: N\n" and list(tmp_path.glob(".*.tmp")) == []
