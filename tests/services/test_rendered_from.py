"""What a template is rendered from (services/rendered_from.py): the names it
reads and, of the account, the attributes it reads."""

from __future__ import annotations

from datetime import date

from gl_csm.domain.account import parse_account
from gl_csm.services.rendered_from import names_read, rendered_from

SOURCE = (
    "{{ account.name }} · {{ account.team.csm }} · {{ health }}\n"
    "{% for m in measures %}{{ m.name }}{% endfor %}{{ whole | inline }}"
)


def test_names_and_attributes_read() -> None:
    assert names_read(SOURCE) == {
        "account": frozenset({"name", "team"}),
        "health": None,
        "measures": None,
        "m": frozenset({"name"}),
        "whole": None,
    }


def test_a_name_used_whole_counts_whole() -> None:
    assert names_read("{{ account.name }} {{ account }}")["account"] is None


def test_only_what_is_read_is_an_input() -> None:
    acme = parse_account(
        {"name": "Acme", "segment": "strategic", "arr": 100}, "accounts/acme.yml", "acme"
    )
    richer = parse_account(
        {"name": "Acme", "segment": "growth", "arr": 900, "renewal_date": date(2027, 1, 1)},
        "elsewhere/acme.yml",
        "acme",
    )
    context = {"account": acme, "health": "green", "measures": [], "whole": "x", "unread": 1}
    same = {**context, "account": richer, "unread": 2}
    assert rendered_from(SOURCE, context) == rendered_from(SOURCE, same)
    assert rendered_from(SOURCE, context) != rendered_from(SOURCE, {**context, "health": "red"})
