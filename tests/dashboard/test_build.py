"""The static dashboard: overview, a page per CSM and per account,
charts as inline SVG, every relative link resolves to a file, nothing fetched."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from gl_csm.dashboard.build import page_name


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.svgs = 0
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for key in ("href", "src"):
            if found.get(key):
                self.links.append(found[key] or "")
        self.svgs += tag == "svg"
        self.scripts += tag == "script"


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_pages_charts_and_links(dashboard: Path) -> None:
    pages = sorted(dashboard.rglob("*.html"))
    names = {p.relative_to(dashboard).as_posix() for p in pages}
    assert "index.html" in names
    assert {"csm/alice.html", "csm/erin.html", "csm/frank.html"} <= names
    assert len([n for n in names if n.startswith("account/")]) == 24
    for page in pages:
        parsed = _parse(page)
        assert parsed.scripts == 0  # static: no JavaScript at all
        for link in parsed.links:
            if link.startswith(("https://", "http://")):
                assert "gl-csm.invalid" in link or link.startswith("https://")
                continue
            assert not link.startswith("//"), link
            target = (page.parent / link.split("#")[0]).resolve()
            assert target.is_file(), f"{page.name}: {link} does not resolve"
    overview = _parse(dashboard / "index.html")
    assert overview.svgs == 2  # health per CSM, 12 weeks
    account = (dashboard / "account/acct-003.html").read_text()
    assert "<svg" in account and "<polyline" in account
    assert "Health red since 2026-11-06" in account
    assert re.search(r'href="https?://[^"]+/issues/\d+">tracking issue', account)


def test_page_names_cannot_escape_the_folder() -> None:
    assert page_name("../../etc/passwd") == "etc-passwd"
    assert page_name("Alice Smith") == "alice-smith"
    assert page_name("") == "unnamed"


def test_time_to_value_per_segment_on_the_overview_and_the_account_page(
    tmp_path: Path,
) -> None:
    """SPEC 4.1, handbook 004: the summary issue's time-to-value figures, per segment."""
    from datetime import date

    from gl_csm.dashboard.build import build_dashboard
    from gl_csm.domain.rules import DEFAULT_RULES

    def row(slug: str, engagement: int | None) -> dict:
        return {
            "slug": slug,
            "name": slug.title(),
            "csm": "alice",
            "segment": "strategic",
            "priority": 2,
            "health": "green",
            "score": 90,
            "lifecycle": "adopting",
            "renewal_date": "2027-10-31",
            "arr": 100000,
            "measures": [],
            "time_to_value": {"Engagement": engagement, "First Value": None},
        }

    accounts = {s: row(s, d) for s, d in (("acme", 4), ("globex", 10), ("hooli", None))}
    build_dashboard(tmp_path, accounts, {}, date(2026, 11, 23), DEFAULT_RULES)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    ttv = index.split("Time to value (handbook 004)", 1)[1].split("</section>", 1)[0]
    assert (
        '<td>strategic</td><td>Engagement</td><td class="num">2 of 3</td>'
        '<td class="num">7</td>' in ttv
    ), ttv
    page = (tmp_path / "account" / "hooli.html").read_text(encoding="utf-8")
    assert '<td>Engagement</td><td class="num">not recorded</td>' in page, page
