"""Independent GitLab clients against `gl-csm sandbox serve` (cross-process, slow).

Where each client comes from (`.ci/run` installs them when it may):

- python-gitlab's CLI `gitlab`: the project's own venv (a dependency);
- gitlabform, gitlabracadabra: PyPI, into `.clients/venv`;
- `@gitbeaker/rest`: npm, into `.clients/node`;
- Debian packages `libgitlab-api-v4-perl`, `ruby-gitlab`, `gitlab-rulez`.

A client that is not installed is skipped, saying how to install it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.cli.test_sandbox_serve import start_server

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / ".clients"
TOKEN = "t"


class Served:
    """A running `gl-csm sandbox serve` and a small API reader to check what clients did."""

    def __init__(self, url: str, workdir: Path) -> None:
        self.url = url
        self.workdir = workdir

    def get(self, path: str, **params: object) -> object:
        r = requests.get(
            f"{self.url}/api/v4{path}",
            params=params,  # type: ignore[arg-type]
            headers={"PRIVATE-TOKEN": TOKEN},
            timeout=10,
        )
        r.raise_for_status()
        return r.json()

    def names(self, path: str, key: str = "name", **params: object) -> list[str]:
        found = self.get(path, per_page=100, **params)
        assert isinstance(found, list)
        return sorted(str(item[key]) for item in found)

    def run(self, *argv: str, cwd: Path | None = None) -> str:
        """Run a client; fail with its whole output when it exits non-zero."""
        proc = subprocess.run(
            list(argv),
            cwd=cwd or self.workdir,
            capture_output=True,
            text=True,
            timeout=300,
        )
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, f"{argv[0]} exited {proc.returncode}:\n{out}"
        return out


@pytest.fixture
def served(workdir: Path) -> Iterator[Served]:
    proc, url = start_server(workdir)
    yield Served(url, workdir)
    proc.terminate()
    proc.wait(timeout=10)


def require(path: Path | str | None, how: str) -> str:
    """The client's executable (or folder), or skip naming how to install it."""
    if path is None or not Path(path).exists():
        pytest.skip(f"not installed: {how} (.ci/run installs it)")
    return str(path)


def python_gitlab_cli() -> str:
    return require(Path(sys.executable).with_name("gitlab"), "pip install python-gitlab")


def clients_venv_tool(name: str) -> str:
    return require(CLIENTS / "venv" / "bin" / name, f"pip install {name} into .clients/venv")


def node_modules() -> str:
    if shutil.which("node") is None:
        pytest.skip("not installed: node (apt-get install nodejs)")
    modules = CLIENTS / "node" / "node_modules"
    return require(
        modules if (modules / "@gitbeaker" / "rest").exists() else None,
        "npm install --prefix .clients/node @gitbeaker/rest",
    )


def has_module(command: list[str], how: str) -> str:
    exe = shutil.which(command[0])
    if exe is None or subprocess.run(command, capture_output=True).returncode != 0:
        pytest.skip(f"not installed: {how} (.ci/run installs it)")
    return exe
