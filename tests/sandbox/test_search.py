"""Issue search with GitLab's semantics (PostgreSQL full text, issuable_finder.rb).

Sources: app/finders/issuable_finder.rb (``by_search``, ``use_full_text_search?``),
app/models/concerns/pg_full_text_searchable.rb (``build_tsquery``, weights A/B),
lib/gitlab/sql/pattern.rb (terms, quoted phrases, 3-character minimum for ILIKE),
doc/api/issues.md (``search``, ``in``). Tokenisation is PostgreSQL's default parser
with the ``english`` configuration; the expected answers below were checked by hand
against PostgreSQL 15 (``to_tsvector('english', ...) @@ to_tsquery('english', ...)``).
"""

from __future__ import annotations

from typing import Any

import gitlab
import pytest

from gl_csm.sandbox import Sandbox, SandboxAdapter
from gl_csm.sandbox.fulltext import build_query, parse, to_tsvector
from tests.sandbox.conftest import BASE, Http

MARKER = "<!-- gl-csm:tracking:acme-corp -->"


@pytest.fixture
def issues(project: Any) -> dict[str, Any]:
    made = {
        "tracking": project.issues.create(
            {
                "title": "Tracking: Acme Corp",
                "description": f"Account card for acme-corp's renewal.\n\n{MARKER}",
            }
        ),
        "labs": project.issues.create(
            {
                "title": "Tracking: Acme Labs",
                "description": "Renewals of <b>Acme</b> Labs\n\n<!-- gl-csm:tracking:acme-labs -->",
            }
        ),
        "hidden": project.issues.create(
            {"title": "Notes", "description": "<!-- initech --> only in a comment"}
        ),
    }
    return made


def _found(project: Any, search: str, **kwargs: Any) -> set[int]:
    return {i.iid for i in project.issues.list(search=search, get_all=True, **kwargs)}


def test_hidden_marker_is_never_found(project: Any, issues: dict[str, Any]) -> None:
    """pg_full_text_searchable.rb: a whole ``<!-- ... -->`` is one tag token, not indexed;
    the query's ``<``, ``!`` and ``:`` are made spaces, so the marker's words are searched
    as words that the description does not hold outside the comment."""
    assert _found(project, MARKER, **{"in": "description"}) == set()
    assert _found(project, "gl-csm:tracking:acme-corp", **{"in": "description"}) == set()
    assert _found(project, "initech") == set()
    # A plain substring search would have found it:
    assert "initech" in issues["hidden"].description


def test_words_are_stemmed_and_prefix_matched(project: Any, issues: dict[str, Any]) -> None:
    """English stemming (renewal, renewals -> renew) and ``term:*`` prefix matching."""
    tracking, labs = issues["tracking"].iid, issues["labs"].iid
    assert _found(project, "renewals") == {tracking, labs}
    assert _found(project, "renew") == {tracking, labs}
    assert _found(project, "Acm") == {tracking, labs}
    assert _found(project, "track") == {tracking, labs}
    # Not a substring search: "newal" is inside "renewal" but no word starts with it.
    assert _found(project, "newal") == set()


def test_all_terms_must_match(project: Any, issues: dict[str, Any]) -> None:
    """Terms are joined with ``&`` (build_tsquery): every one must match."""
    assert _found(project, "acme labs") == {issues["labs"].iid}
    assert _found(project, "acme initech") == set()


def test_hyphenated_words_are_split_and_kept_whole(project: Any, issues: dict[str, Any]) -> None:
    """PostgreSQL indexes ``acme-corp`` whole and as ``acme`` and ``corp``; the query
    term becomes the phrase ``'acme-corp':* <-> 'acm':* <-> 'corp':*``."""
    tracking = issues["tracking"].iid
    assert _found(project, "acme-corp") == {tracking}
    assert _found(project, "corp") == {tracking}
    assert to_tsvector("acme-corp") == {
        "acme-corp": [(1, "D")],
        "acm": [(2, "D")],
        "corp": [(3, "D")],
    }


def test_in_limits_to_title_or_description(project: Any, issues: dict[str, Any]) -> None:
    """doc/api/issues.md ``in``: title (weight A) or description (weight B); default both."""
    labs = issues["labs"].iid
    assert _found(project, "Labs", **{"in": "title"}) == {labs}
    assert _found(project, "Notes", **{"in": "description"}) == set()
    assert _found(project, "Notes", **{"in": "title"}) == {issues["hidden"].iid}
    # HTML tags are not indexed either, the text between them is.
    assert _found(project, "acme", **{"in": "description"}) == {issues["tracking"].iid, labs}


def test_stop_words_only_find_nothing(project: Any, issues: dict[str, Any]) -> None:
    """A query whose terms are all stop words has no lexeme: ``@@`` is false
    (PostgreSQL: "text-search query contains only stop words ... ignored")."""
    assert _found(project, "the") == set()
    assert _found(project, "a") == set()
    # A stop word next to a real term is dropped, the rest still has to match.
    assert _found(project, "the labs") == {issues["labs"].iid}


def test_short_terms_are_prefixes_in_full_text(project: Any, issues: dict[str, Any]) -> None:
    """issuable_finder.rb: Latin-script queries take the full-text path, which has no
    3-character minimum: a 2-letter term is a prefix like any other."""
    assert _found(project, "ac") == {issues["tracking"].iid, issues["labs"].iid}


def test_quoted_phrase_needs_adjacent_words(project: Any, issues: dict[str, Any]) -> None:
    """pattern.rb keeps ``"quoted terms"``; build_tsquery joins their words with ``<->``."""
    assert _found(project, '"acme labs"') == {issues["labs"].iid}
    assert _found(project, '"labs acme"') == set()


def test_non_latin_queries_use_ilike_with_three_characters(project: Any) -> None:
    """Issue.full_search (app/models/issue.rb) for queries outside the Latin ranges:
    ILIKE per term of 3+ characters, only on issues holding non-Latin text; shorter
    queries must equal the whole column (lib/gitlab/sql/pattern.rb)."""
    jp = project.issues.create({"title": "顧客の更新", "description": "更新の確認"})
    assert _found(project, "顧客の") == {jp.iid}
    assert _found(project, "更新") == set()
    assert _found(project, "顧客の更新", **{"in": "title"}) == {jp.iid}


def test_group_and_global_listings_search_the_same_way(
    gl: gitlab.Gitlab, project: Any, issues: dict[str, Any]
) -> None:
    """doc/api/issues.md: group and global listings take the same ``search``/``in``."""
    group = gl.groups.get("customer-success")
    assert [i.iid for i in group.issues.list(search=MARKER, get_all=True)] == []
    found = gl.issues.list(search="renewals", scope="all", get_all=True)
    assert {i.iid for i in found} == {issues["tracking"].iid, issues["labs"].iid}


def test_search_none_finds_nothing(http: Http) -> None:
    """``Sandbox(search="none")``: every issue search is empty (a test switch)."""
    sb = Sandbox(search="none")
    sb.seed(projects=[("cs/accounts", "private")])
    client = gitlab.Gitlab(BASE, private_token="t")
    client.session.mount(BASE, SandboxAdapter(sb))
    prj = client.projects.get("cs/accounts")
    prj.issues.create({"title": "Acme renewal", "description": "renewal"})
    assert prj.issues.list(search="renewal", get_all=True) == []
    assert client.issues.list(search="renewal", scope="all", get_all=True) == []
    assert len(prj.issues.list(get_all=True)) == 1  # listing without search unaffected


def test_parser_token_types_match_postgresql() -> None:
    """ts_debug('english', ...) token types as PostgreSQL 15 reports them."""
    text = (
        "Tracking <!-- x --> <a href='x'>link</a> &amp; ops@acme.io "
        "https://gitlab.com/a/b v1.2.3 3.14 abc123 /etc/passwd e.g. x-1"
    )
    assert list(parse(text)) == [
        ("asciiword", "Tracking"),
        ("asciiword", "link"),
        ("email", "ops@acme.io"),
        ("url", "gitlab.com/a/b"),
        ("host", "gitlab.com"),
        ("url_path", "/a/b"),
        ("file", "v1.2.3"),
        ("float", "3.14"),
        ("numword", "abc123"),
        ("file", "/etc/passwd"),
        ("file", "e.g"),
        ("asciiword", "x"),
        ("int", "-1"),
    ]


def test_query_builder_drops_operands_without_lexemes() -> None:
    """build_tsquery + to_tsquery: ``<!--`` leaves only ``--`` (no lexeme, ignored);
    digits become ``(n:* | -n:*)``."""
    terms = build_query("<!-- 42", [])
    assert len(terms) == 1
    assert [[item.word for item in alt] for alt in terms[0]] == [["42"], ["-42"]]


def test_editions_are_checked() -> None:
    """Only GitLab's tiers exist; anything else is refused with a clear message."""
    with pytest.raises(ValueError, match="expected one of free, premium, ultimate"):
        Sandbox(edition="gold")
    with pytest.raises(ValueError, match="expected one of fulltext, ilike, none"):
        Sandbox(search="some")
    assert Sandbox().edition == "free"
    assert Sandbox(edition="premium").edition == "premium"
