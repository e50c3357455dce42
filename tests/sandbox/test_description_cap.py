"""GitLab's cap on an issue description counts UTF-8 bytes, not characters
(app/models/concerns/issuable.rb `validates :description, bytesize:`,
app/validators/bytesize_validator.rb); the summary issue relies on it."""

from __future__ import annotations

from .conftest import Http

P = "/projects/customer-success%2Faccounts"


def test_the_description_cap_counts_bytes(http: Http) -> None:
    http.post(f"{P}/issues", json={"title": "t"})
    assert http.put(f"{P}/issues/1", json={"description": "x" * 1_048_576}).status_code == 200
    # 349,526 arrows are 1,048,578 bytes: under the cap in characters, over it in bytes.
    r = http.put(f"{P}/issues/1", json={"description": "→" * 349_526})
    assert r.status_code == 400
    assert r.json()["message"] == {"description": ["is too long (maximum is 1048576 characters)"]}
    r = http.post(f"{P}/issues", json={"title": "u", "description": "é" * 524_289})
    assert r.status_code == 400
