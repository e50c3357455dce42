"""The card's hidden data is parsed once per description (services/card_data.py): each
caller still gets data of its own to change."""

from __future__ import annotations

from gl_csm.services.card_data import card_data, card_value, data_comment

DESCRIPTION = "card\n\n" + data_comment({"issues": {"triage": [3]}, "posted": ["a"]}) + "\n"


def test_each_caller_gets_its_own_copy() -> None:
    first = card_data(DESCRIPTION)
    first["issues"]["triage"].append(4)
    first["posted"].clear()
    first["new"] = 1
    assert card_data(DESCRIPTION) == {"issues": {"triage": [3]}, "posted": ["a"]}


def test_one_value_is_the_value_of_the_whole_data() -> None:
    value = card_value(DESCRIPTION, "issues")
    assert value == card_data(DESCRIPTION)["issues"]
    value["triage"].append(9)
    assert card_value(DESCRIPTION, "issues") == {"triage": [3]}
    assert card_value(DESCRIPTION, "missing") is None
    assert card_value(None, "issues") is None
    assert card_value("no data here", "issues") is None
    assert card_data("<!-- gl-csm-data [1] -->") == {}
