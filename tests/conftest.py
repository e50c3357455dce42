"""Shared fixtures: settings for the example layout and a gateway on an in-process sandbox."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from gl_csm.config import Settings, load_settings
from gl_csm.gitlab.gateway import Gateway
from gl_csm.runtime import seed_sandbox
from gl_csm.sandbox import Sandbox, SandboxAdapter
from gl_csm.templates import _template_source

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 23)

CONFIG = """\
accounts: accounts/
groups:
  pre_sales: account-management/pre-sales
  post_sales: account-management/customers
projects:
  accounts: customer-success/accounts
  triage: customer-success/account-triage
  escalations: customer-success/escalations
people:
  vp_customer_success: vp-cs
  public_sector_cs_director: ps-director
  escalations: {product: pm-escalations, support: support-escalations}
  regions:
"""
# People by region (SPEC 5.1): `<region>-mgr`, `<region>-dir`, `<region>-asm`, `<region>-rd`.
for _region in ("NORAM", "EMEA", "APAC", "PUBSEC"):
    _r = _region.lower()
    CONFIG += (
        f"    {_region}: {{csm_manager: {_r}-mgr, csm_director: {_r}-dir, "
        f"area_sales_manager: {_r}-asm, regional_director: {_r}-rd}}\n"
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help="Rewrite tests/golden/files/ from what gl-csm renders now (review the diff).",
    )


def templates_copied_into(workdir: Path) -> Iterator[Path]:
    """For a fixture (``yield from``): the repository's project and issue templates
    copied into ``workdir`` (the CS-ops working tree), the template cache cleared before
    and after so no other test sees these files."""
    for folder in ("project_templates", "issue_templates"):
        shutil.copytree(ROOT / folder, workdir / folder)
    _template_source.cache_clear()
    yield workdir
    _template_source.cache_clear()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A copy of the sample registry and a config, as a CS-ops repository would have."""
    shutil.copytree(ROOT / "accounts", tmp_path / "accounts")
    (tmp_path / "gl-csm.yml").write_text(CONFIG)
    return tmp_path


@pytest.fixture
def settings(workdir: Path) -> Settings:
    return load_settings(workdir / "gl-csm.yml", environ={})


@pytest.fixture
def sandbox(settings: Settings, request: pytest.FixtureRequest) -> Sandbox:
    """Free by default, as `gitlab_edition`; ``@pytest.mark.edition("premium")`` for a tier."""
    marker = request.node.get_closest_marker("edition")
    edition = marker.args[0] if marker else "free"
    # GitLab's full-text search (the default): it never finds the bot's hidden markers.
    sb = Sandbox(edition=edition)
    seed_sandbox(sb, settings)
    return sb


@pytest.fixture
def gateway(sandbox: Sandbox) -> Gateway:
    gw = Gateway.for_transport(SandboxAdapter(sandbox))
    gw._create_wait_max = 0.0
    return gw
