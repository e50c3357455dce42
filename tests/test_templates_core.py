"""Template rendering core: strict, sandboxed, and user text made inert (ARCHITECTURE rule 5)."""

from __future__ import annotations

import pytest

from gl_csm.templates import (
    ZWSP,
    TemplateRenderError,
    Trusted,
    inline,
    neutralise,
    reference,
    render,
)


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


def test_bot_text_on_one_line_stays_as_written() -> None:
    # A link the bot built (its "#1" is GitLab's own issue number) keeps its meaning
    # through `inline`, while registry text with "@someone" or "#5" is still made inert.
    link = Trusted("[Account triage: Initrode #1](https://gitlab.example.com/x/-/issues/1)")
    out = render("{{ t | inline }} / {{ note | inline }}", {"t": link, "note": "ask @bob #5"})
    assert out.startswith(str(link) + " / "), out
    assert out.endswith(f"ask @{ZWSP}bob #{ZWSP}5"), out


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("account-management/customers/nakatomi#9", True),
        ("group/sub.group/my-project#12", True),
        ("#5", False),
        ("@all", False),
        ("group/project#12 @all", False),
        ("group/project#12\n/close", False),
    ],
)
def test_reference_keeps_only_an_issue_reference_as_written(text: str, kept: bool) -> None:
    # GitLab's full reference (doc/api/issues.md ``references.full``): the bot writes it
    # so GitLab links it; anything else is registry or people's text, made inert.
    out = render("{{ r | reference }}", {"r": text})
    assert (out == text) is kept, out
    if not kept:
        assert out == neutralise(text) and reference(text) == neutralise(text)
