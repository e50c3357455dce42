"""Issue search as GitLab runs it: PostgreSQL full-text search, or ILIKE for other scripts.

GitLab (app/finders/issuable_finder.rb ``by_search``) searches issues with
PostgreSQL full text when the query is made of Latin-script characters
(``FULL_TEXT_SEARCH_TERM_REGEX``), else with ``ILIKE`` (``Issue.full_search``,
lib/gitlab/sql/pattern.rb). The full-text side follows
app/models/concerns/pg_full_text_searchable.rb:

- the document: title (weight A) and description (weight B), long base64-like
  words blanked, accents transliterated, then ``to_tsvector('english', ...)``;
- the query: URL schemes removed, accents transliterated, every character but
  ``[a-zA-Z0-9 .@/-"]`` made a space, split into terms (``"quoted phrases"`` kept),
  each term a prefix match ``term:*`` restricted to the weights of ``in``, all
  terms ANDed, then ``to_tsquery('english', ...)`` which parses and stems each term.

``to_tsvector`` is modelled on PostgreSQL's default parser (src/backend/tsearch/
wparser_def.c) and the ``english`` configuration: HTML tags and whole
``<!-- comments -->``, entities and URL protocols are not indexed; words are
stemmed with Snowball's English stemmer (PostgreSQL's ``english_stem``) and its
stop words dropped (they still take a position); hyphenated words are indexed
whole and by part; hosts, e-mails, URLs, paths and numbers are kept whole
(``simple`` dictionary). Checked by hand against PostgreSQL 15 (``ts_debug``): every
bot description of the golden files tokenises identically; glued oddities (``~label`` at
the very start, ``2026-01-31x.y``) may not. Stemming is Snowball 2.x, as PostgreSQL
14-17 ship it (Snowball 3 stems ``internal``, ``organization`` differently).
So ``<!-- gl-csm:tracking:acme -->`` is never found, and ``:`` splits words.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import snowballstemmer

# PostgreSQL's tsearch_data/english.stop (the Snowball English stop-word list).
_STOP_LIST = """i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom this that these those am is are was were be been being have has had having do
    does did doing a an the and but if or because as until while of at by for with about
    against between into through during before after above below to from up down in out on
    off over under again further then once here there when where why how all any both each
    few more most other some such no nor not only own same so than too very s t can will
    just don should now"""
STOP_WORDS = frozenset(_STOP_LIST.split())

# issuable_finder.rb: full text only for queries in these Unicode ranges.
_LATIN = re.compile(r"\A[\u0000-\u02FF\u1E00-\u1EFF\u2070-\u218F]*\Z")
# pg_full_text_searchable.rb
_LONG_WORDS = re.compile(r"[A-Za-z0-9+/@]{50,}")
_URL_SCHEME = re.compile(r"(?:(?<=\A)|(?<=\W))\w+://(?=\w+)")
_DISALLOWED = re.compile(r"[^a-zA-Z0-9 .@/\-\"]")
# lib/gitlab/sql/pattern.rb
_QUOTED = re.compile(r'(?:(?<=\A)|(?<= ))"[^"]+"(?= |\Z)')
MIN_CHARS_FOR_PARTIAL_MATCHING = 3
_WEIGHTS = {"title": "A", "description": "B"}

# -- the parser (wparser_def.c), for ASCII text (GitLab transliterates first) ----------
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = rf"(?:{_LABEL}\.)+[A-Za-z]{{2,}}(?::\d+)?(?![A-Za-z0-9])"
_SKIP = re.compile(
    r"<!--.*?-->"  # a whole comment is one tag token
    r"|</?[A-Za-z_][\w.:-]*(?:\s+[^\s<>=/]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*\s*/?>"
    r"|&(?:[A-Za-z]+|#\d+|#[xX][0-9A-Fa-f]+);"  # entity
    r"|[A-Za-z]+://",  # protocol
    re.DOTALL,
)
_EMAIL = re.compile(rf"[A-Za-z0-9_.+-]*[A-Za-z0-9]@{_HOST}")
_URL = re.compile(rf"({_HOST})(/[A-Za-z0-9_.~%?#=&+:;,!$*'()/-]*)")
_HOST_RE = re.compile(_HOST)
_FILE = re.compile(
    # A path, not its closing dot; a relative one's first part has no - or _ (a-b/c is
    # the hyphenated word a-b, then the path /c).
    r"(?:/(?:[A-Za-z0-9_.-]+/)*|[A-Za-z0-9][A-Za-z0-9.]*/(?:[A-Za-z0-9_.-]+/)*)"
    r"[A-Za-z0-9_.-]+(?<!\.)"
    r"|[A-Za-z0-9]+(?:\.[A-Za-z0-9_-]+)+(?<![.-])"  # dotted, not a host: x.y, e.g
)
_NUMBER = re.compile(
    r"\d+(?:\.\d+){2,}(?![\w])"  # version
    r"|\d+(?:\.\d+)?[eE][+-]?\d+"  # sfloat
    r"|\d+\.\d+(?![\w])"  # float
)
_SIGNED = re.compile(r"[+-]\d+(?![A-Za-z])")
# Hyphenated word: every part holds a letter (x-1acme yes; ab-12, 12-ab no).
_PART = r"[0-9]*[A-Za-z][A-Za-z0-9]*"
_HWORD = re.compile(rf"{_PART}(?:-{_PART})+(?![A-Za-z0-9])")
_ALNUM = re.compile(r"[A-Za-z0-9]+")
_START = re.compile(r"[A-Za-z0-9<&+\-/._]")
_PLAIN = re.compile(r"[A-Za-z0-9]+(?=[\s,;!?()\[\]{}\"'*|=~^`$%#]|\Z)")

_STEMMED = {"asciiword", "asciihword", "hword_asciipart"}


def parse(text: str) -> Iterator[tuple[str, str]]:
    """Indexable tokens ``(type, token)`` in order, as ``ts_debug`` names them.

    Blanks, tags, entities and protocols are consumed and not yielded: they take no
    position. Every yielded token takes one, even a stop word.
    """
    i, n, glued = 0, len(text), -1
    while i < n:
        if i == glued and text.startswith("..", i) and not text.startswith("...", i):
            # PostgreSQL's parser makes exactly two dots right after a token a file "..".
            yield "file", ".."
            i = glued = i + 2
            continue
        start = _START.search(text, i)
        if start is None:
            return
        i = start.start()
        if (m := _SKIP.match(text, i)) is not None:
            i = m.end()
            continue
        tokens = _token_at(text, i)
        if tokens is None:
            i += 1
            continue
        found, i = tokens
        glued = i
        yield from found


def _token_at(text: str, i: int) -> tuple[list[tuple[str, str]], int] | None:
    """The token(s) starting at ``i`` and where they end; None for a blank character."""
    if (m := _PLAIN.match(text, i)) is not None:
        # Fast path: a plain word or number followed by a blank that no other token
        # type could continue (no . - @ / : _ < &).
        return [(_alnum_kind(m.group()), m.group())], m.end()
    if (m := _EMAIL.match(text, i)) is not None and (i == 0 or not text[i - 1].isalnum()):
        return [("email", m.group())], m.end()
    if (m := _URL.match(text, i)) is not None:
        return [("url", m.group()), ("host", m.group(1)), ("url_path", m.group(2))], m.end()
    if (m := _HOST_RE.match(text, i)) is not None:
        return [("host", m.group())], m.end()
    if (m := _NUMBER.match(text, i)) is not None:
        return [(_number_kind(m.group()), m.group())], m.end()
    if (m := _FILE.match(text, i)) is not None:
        return [("file", m.group())], m.end()
    if (m := _SIGNED.match(text, i)) is not None:
        return [("int", m.group())], m.end()
    if (m := _HWORD.match(text, i)) is not None:
        word = m.group()
        numeric = any(c.isdigit() for c in word)
        out = [("numhword" if numeric else "asciihword", word)]
        for part in word.split("-"):
            has_digit = any(c.isdigit() for c in part)
            out.append(("hword_numpart" if has_digit else "hword_asciipart", part))
        return out, m.end()
    if (m := _ALNUM.match(text, i)) is not None:
        return [(_alnum_kind(m.group()), m.group())], m.end()
    return None


def _alnum_kind(token: str) -> str:
    if token.isdigit():
        return "uint"
    return "asciiword" if token.isalpha() else "numword"


def _number_kind(token: str) -> str:
    if "e" in token.lower():
        return "sfloat"
    return "version" if token.count(".") >= 2 else "float"


_stemmer = snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    # The pure-Python stemmer costs ~1 ms a word; a portfolio reuses few thousand words.
    return str(_stemmer.stemWord(word))


def lexeme(kind: str, token: str) -> str | None:
    """The ``english`` configuration's dictionaries: stems for words, ``simple`` for the
    rest; ``None`` for a stop word."""
    lowered = token.lower()
    if kind in _STEMMED:
        if lowered in STOP_WORDS:
            return None
        return _stem(lowered)
    return lowered


def transliterate(text: str) -> str:
    """ActiveSupport::Inflector.transliterate: accents dropped, other non-ASCII ``?``."""
    out = []
    for char in unicodedata.normalize("NFKD", text):
        if char.isascii():
            out.append(char)
        elif not unicodedata.combining(char):
            out.append("?")
    return "".join(out)


# -- documents --------------------------------------------------------------------------

# lexeme -> [(position, weight)]
Vector = dict[str, list[tuple[int, str]]]


def to_tsvector(text: str, weight: str = "D", offset: int = 0) -> Vector:
    vector: Vector = {}
    for position, (kind, token) in enumerate(parse(text), start=1 + offset):
        word = lexeme(kind, token)
        if word is not None:
            vector.setdefault(word, []).append((position, weight))
    return vector


@functools.lru_cache(maxsize=16384)
def document(title: str, description: str | None) -> Vector:
    """The issue's search vector: ``setweight(title, 'A') || setweight(description, 'B')``
    (``||`` shifts the right side's positions by the left side's last position).
    Cached, as GitLab stores it (issue_search_data); callers must not change it."""
    vector = to_tsvector(_prepare(title), "A")
    last = max((p for places in vector.values() for p, _ in places), default=0)
    for word, places in to_tsvector(_prepare(description or ""), "B", last).items():
        vector.setdefault(word, []).extend(places)
    return vector


def _prepare(text: str) -> str:
    return transliterate(_LONG_WORDS.sub(" ", text))


# -- queries ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One lexeme of a query term, ``offset`` positions after the term's first one."""

    word: str
    prefix: bool
    weights: str
    offset: int


# A term matches if any alternative (a phrase of items) matches; all terms must match.
Term = tuple[tuple[Item, ...], ...]


def split_terms(query: str) -> list[str]:
    """Gitlab::SQL::Pattern.split_query_to_search_terms."""
    quoted: list[str] = []

    def keep(match: re.Match[str]) -> str:
        quoted.append(match.group())
        return ""

    rest = _QUOTED.sub(keep, query)
    return rest.split() + [q[1:-1] for q in quoted]


def _operand(text: str, prefix: bool, weights: str) -> tuple[Item, ...]:
    """to_tsquery on one operand: its lexemes joined by ``<->``, stop words leave gaps."""
    items = []
    for position, (kind, token) in enumerate(parse(text)):
        word = lexeme(kind, token)
        if word is not None:
            items.append((word, position))
    if not items:
        return ()
    first = items[0][1]
    return tuple(Item(w, prefix, weights, p - first) for w, p in items)


def build_query(search: str, columns: Sequence[str]) -> list[Term]:
    """The tsquery GitLab builds for ``search`` and ``in`` (pg_full_text_searchable.rb
    ``build_tsquery``), as a list of ANDed terms; operands without lexemes are dropped."""
    query = _URL_SCHEME.sub("", search)
    query = transliterate(query)
    query = _DISALLOWED.sub(" ", query)
    weights = "".join(_WEIGHTS[c] for c in columns if c in _WEIGHTS)
    terms: list[Term] = []
    for term in split_terms(query):
        if term.isdigit():
            alternatives = (_operand(term, True, weights), _operand("-" + term, True, weights))
        elif re.search(r"\s", term):
            phrase: list[Item] = []
            shift = 0
            for position, word in enumerate(term.split()):
                items = _operand(word, False, weights)
                if items and not phrase:
                    shift = position
                phrase += [
                    Item(i.word, i.prefix, i.weights, i.offset + position - shift) for i in items
                ]
            alternatives = (tuple(phrase),)
        else:
            alternatives = (_operand(term, True, weights),)
        alternatives = tuple(a for a in alternatives if a)
        if alternatives:
            terms.append(alternatives)
    return terms


def _positions(vector: Vector, item: Item) -> set[int]:
    found: set[int] = set()
    for word, places in vector.items():
        if word == item.word or (item.prefix and word.startswith(item.word)):
            found.update(p for p, w in places if not item.weights or w in item.weights)
    return found


def _phrase_matches(vector: Vector, phrase: tuple[Item, ...]) -> bool:
    starts: set[int] | None = None
    for item in phrase:
        here = {p - item.offset for p in _positions(vector, item)}
        starts = here if starts is None else starts & here
        if not starts:
            return False
    return bool(starts)


def matches(vector: Vector, terms: list[Term]) -> bool:
    """``vector @@ query``; a query left with no lexemes matches nothing."""
    if not terms:
        return False
    return all(any(_phrase_matches(vector, alt) for alt in term) for term in terms)


# -- the whole search -------------------------------------------------------------------


def is_full_text(search: str) -> bool:
    return bool(_LATIN.match(search))


def _ilike_matches(text: str, search: str) -> bool:
    """Issue.full_search / fuzzy_arel_match: every term of 3+ characters a substring;
    with none that long, the whole column equal to the query (case-insensitive)."""
    words = [w for w in split_terms(search) if len(w) >= MIN_CHARS_FOR_PARTIAL_MATCHING]
    lowered = text.lower()
    if words:
        return all(w.lower() in lowered for w in words)
    return lowered == search.lower()


def search_filter(search: str, columns: Sequence[str] | None, *, ilike: bool = False) -> _Matcher:
    """A predicate on ``(title, description)`` answering GitLab's ``search``/``in``;
    ``ilike``: always the ILIKE path (GitLab before full-text issue search)."""
    wanted = [c for c in (columns or []) if c in _WEIGHTS]
    if is_full_text(search) and not ilike:
        return _Matcher(build_query(search, wanted), None, (), False)
    squished = " ".join(search.split())
    return _Matcher([], squished, tuple(wanted or ("title", "description")), not ilike)


@dataclass(frozen=True)
class _Matcher:
    terms: list[Term]
    ilike: str | None
    columns: tuple[str, ...]
    non_latin_only: bool

    def __call__(self, title: str, description: str | None) -> bool:
        if self.ilike is None:
            return matches(document(title, description), self.terms)
        fields = {"title": title, "description": description or ""}
        if not self.ilike:
            return False
        # Issue.full_search: only issues with some non-Latin character in them.
        if self.non_latin_only and _LATIN.match(title) and _LATIN.match(description or ""):
            return False
        return any(_ilike_matches(fields[c], self.ilike) for c in self.columns)
