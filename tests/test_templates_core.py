"""Template rendering core: strict, sandboxed, and user text made inert (ARCHITECTURE rule 5)."""

from __future__ import annotations

import pytest

from gl_csm.templates import ZWSP, TemplateRenderError, Trusted, inline, neutralise, render


def test_evil_name_is_inert() -> None:
    """doc/user/project/quick_actions.md: a line starting with / runs; @all notifies."""
    out = render("Customer: {{ name }}\n", {"name": "Evil Corp\n/close\n@all <!-- gl-csm:x:y -->"})
    assert "\n/close" not in out and "\\/close" in out
    assert "@all" not in out and f"@{ZWSP}all" in out
    assert "<!--" not in out


def test_inline_collapses_lines_and_table_pipes() -> None:
    # Mid-line, "/close" is not a quick action: only line starts are escaped.
    assert inline("a\n/close | b") == "a /close \\| b"
    assert "\n" not in inline("a\n/close")


def test_indented_quick_action_escaped() -> None:
    assert neutralise("  /label ~x") == "  \\/label ~x"


def test_undefined_variable_is_an_error_naming_the_template() -> None:
    with pytest.raises(TemplateRenderError) as info:
        render("{{ missing }}", {}, name="issue_templates/card.md.j2")
    assert "issue_templates/card.md.j2" in str(info.value)


def test_sandbox_blocks_attribute_escape() -> None:
    with pytest.raises(TemplateRenderError):
        render("{{ ''.__class__.__mro__ }}", {})


def test_mentions_are_trusted_only_from_the_bot() -> None:
    assert render("{{ mention('alice') }} {{ who }}", {"who": "@bob"}) == f"@alice @{ZWSP}bob"
    assert render("{{ t }}", {"t": Trusted("@carol")}) == "@carol"
    with pytest.raises(TemplateRenderError):
        render("{{ mention('bad name') }}", {})


def test_safe_title_one_line_no_mention_capped() -> None:
    """GitLab notifies mentions in titles too; titles hold at most 255 characters."""
    from gl_csm.templates import safe_title

    assert safe_title("Evil Corp\n/close\n@all") == f"Evil Corp /close @{ZWSP}all"
    assert len(safe_title("x" * 300)) == 255
