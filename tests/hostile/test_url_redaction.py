"""Credentials in GITLAB_URL are never printed (RFC 3986 3.2.1)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from requests.adapters import BaseAdapter

from gl_csm.errors import GitLabError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.urls import redact_url
from tests.cli.test_cli_basics import run

SECRET = "s3cr3t-t0ken"


class _Unreachable(BaseAdapter):
    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        raise requests.ConnectionError(f"cannot connect to {request.url}")

    def close(self) -> None:
        pass


def test_redact_url() -> None:
    assert redact_url(f"at https://bot:{SECRET}@gitlab.example.com/x.") == (
        "at https://***@gitlab.example.com/x."
    )
    assert redact_url("https://gitlab.example.com/a@b") == "https://gitlab.example.com/a@b"


def test_could_not_reach_gitlab_names_the_host_not_the_token() -> None:
    gw = Gateway.connect(f"https://bot:{SECRET}@gitlab.example.com", "t", transport=_Unreachable())
    gw.max_retries = 0
    with pytest.raises(GitLabError) as info:
        gw.project("customer-success/accounts")
    assert SECRET not in str(info.value)
    assert "could not reach GitLab at https://***@gitlab.example.com" in str(info.value)
    assert SECRET not in gw.url


def test_cli_config_error_does_not_echo_the_token(workdir: Path) -> None:
    code, out, err = run(
        workdir, "setup", env={"GITLAB_URL": f"ftp://bot:{SECRET}@host", "GITLAB_TOKEN": "x"}
    )
    assert code == 2 and "GitLab URL" in err
    assert SECRET not in out + err
