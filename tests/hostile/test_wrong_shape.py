"""JSON of the wrong shape from "GitLab" (a list where GitLab answers an object, a
string, null, a list of numbers) is a named error with exit 2, never a traceback.

GitLab's REST API answers one object for a resource and a list of objects for a
listing (doc/api/rest/_index.md). Loopback only."""

from __future__ import annotations

from pathlib import Path

import pytest

from gl_csm.errors import GitLabUnreachable
from gl_csm.gitlab.gateway import Gateway
from tests.cli.test_cli_basics import run
from tests.hostile.test_bad_gitlab import _fixed, _serve


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"[1, 2]", "expected a JSON object, got a list"),
        (b'"text"', "expected a JSON object, got a string"),
    ],
)
def test_one_object_of_the_wrong_shape_is_named(body: bytes, said: str) -> None:
    for url in _serve(_fixed(200, "application/json", body)):
        gw = Gateway.connect(url, "t")
        with pytest.raises(GitLabUnreachable) as info:
            gw.project("customer-success/accounts")
        assert f"answered JSON of the wrong shape ({said})" in str(info.value)


def test_a_listing_of_numbers_is_named() -> None:
    for url in _serve(_fixed(200, "application/json", b"[1, 2]")):
        gw = Gateway.connect(url, "t")
        with pytest.raises(GitLabUnreachable) as info:
            gw.issues("customer-success/accounts")
        assert "expected a JSON list of objects, got a list holding a number" in str(info.value)


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"[[]]"])
def test_the_cli_exits_2_without_a_traceback(workdir: Path, body: bytes) -> None:
    for url in _serve(_fixed(200, "application/json", body)):
        code, out, err = run(workdir, "triage", env={"GITLAB_URL": url, "GITLAB_TOKEN": "t"})
        assert code == 2, err
        assert "Traceback" not in out + err and "wrong shape" in err
