"""gl-csm.yml + environment (SPEC 8): every problem names the key; the token stays secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from gl_csm.config import load_settings
from gl_csm.errors import ConfigError

GOOD = """\
gitlab_url: https://gitlab.example.com
accounts: accounts/
groups:
  pre_sales: account-management/pre-sales
  post_sales: account-management/customers
projects:
  accounts: customer-success/accounts
  triage: customer-success/account-triage
  escalations: customer-success/escalations
fiscal_year_start_month: 2
people:
  vp_customer_success: vp-cs
  public_sector_cs_director: ps-director
  regions:
    NORAM: {csm_manager: m1, csm_director: d1, area_sales_manager: asm1, regional_director: rd1}
labels: {"health::red": "HS::Red"}
rules: {}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gl-csm.yml"
    path.write_text(text)
    return path


def test_full_config_loads(tmp_path: Path) -> None:
    s = load_settings(_write(tmp_path, GOOD), environ={"GITLAB_TOKEN": "tok"})
    assert s.gitlab_url == "https://gitlab.example.com"
    assert s.groups and s.groups.post_sales == "account-management/customers"
    assert s.projects and s.projects.triage == "customer-success/account-triage"
    assert s.people.regions["NORAM"].regional_director == "rd1"
    assert s.taxonomy.name("health::red") == "HS::Red"
    assert s.accounts_dir == (tmp_path / "accounts").resolve()
    assert s.rules.fiscal_year_start_month == 2


def test_token_never_in_repr(tmp_path: Path) -> None:
    s = load_settings(_write(tmp_path, GOOD), environ={"GITLAB_TOKEN": "glpat-secret"})
    assert s.token == "glpat-secret"
    assert "glpat-secret" not in repr(s)


def test_url_precedence_flag_env_ci_file(tmp_path: Path) -> None:
    """SPEC 7/8: --gitlab-url, GITLAB_URL, CI_SERVER_URL win over gitlab_url."""
    path = _write(tmp_path, GOOD)
    env = {
        "GITLAB_TOKEN": "t",
        "CI_SERVER_URL": "https://ci.example",
        "GITLAB_URL": "https://env.example",
    }
    assert (
        load_settings(path, environ=env, gitlab_url="https://flag.example/").gitlab_url
        == "https://flag.example"
    )
    assert load_settings(path, environ=env).gitlab_url == "https://env.example"
    del env["GITLAB_URL"]
    assert load_settings(path, environ=env).gitlab_url == "https://ci.example"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (GOOD + "colour: blue\n", "unknown key 'colour'"),
        (
            GOOD.replace("  triage: customer-success/account-triage\n", ""),
            "projects.triage' is required",
        ),
        (
            GOOD.replace("fiscal_year_start_month: 2", "fiscal_year_start_month: 13"),
            "fiscal_year_start_month",
        ),
        (
            GOOD.replace("  pre_sales: account-management/pre-sales", "  pre_sales: 12"),
            "groups.pre_sales",
        ),
        (GOOD.replace("csm_manager: m1", "csm_boss: m1"), "people.regions.NORAM.csm_boss"),
        (
            GOOD.replace("rules: {}", "rules: {health: {weights: {product: {scm: x}}}}"),
            "rules.health.weights.product.scm",
        ),
        (GOOD.replace("rules: {}", "rules: {nope: 1}"), "rules.nope"),
        (
            GOOD.replace('labels: {"health::red": "HS::Red"}', 'labels: {"health::purple": "x"}'),
            "health::purple",
        ),
        ("groups: [1, 2]\n", "key 'groups': expected a mapping"),
        ("accounts: [\n", "not valid YAML"),
    ],
    ids=[
        "unknown-top-key",
        "missing-required",
        "bad-month",
        "bad-path",
        "unknown-role",
        "bad-rule-type",
        "unknown-rule",
        "unknown-label",
        "wrong-type",
        "bad-yaml",
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_write(tmp_path, text), environ={"GITLAB_TOKEN": "t"})
    assert needle in str(info.value)
    assert info.value.exit_code == 2


def test_missing_token_with_gitlab_is_an_error_when_gitlab_is_needed(tmp_path: Path) -> None:
    """SPEC 7: commands that need no GitLab never ask for a token, even with a URL set;
    the token is asked for only when a GitLab connection is opened."""
    settings = load_settings(_write(tmp_path, GOOD), environ={"CI_SERVER_URL": "https://g.x"})
    assert settings.gitlab_url == "https://g.x" and settings.token is None
    with pytest.raises(ConfigError) as info:
        settings.require_token()
    assert "GITLAB_TOKEN" in str(info.value) and info.value.exit_code == 2


def test_no_config_file_means_accounts_in_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SPEC 7: with no config file at all, assess reads accounts/ of the current directory."""
    monkeypatch.chdir(tmp_path)
    s = load_settings(Path("gl-csm.yml"), environ={})
    assert s.accounts_dir == (tmp_path / "accounts").resolve()
    assert s.gitlab_url is None and s.groups is None
    with pytest.raises(ConfigError, match="required for 'setup'"):
        s.require_layout("setup")


def test_explicit_missing_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.yml", explicit=True, environ={})


def test_gitlab_edition_defaults_to_free_and_is_validated(tmp_path: Path) -> None:
    """SPEC 7.1: `gitlab_edition: free|premium|ultimate`, default free."""
    assert load_settings(None, environ={}).gitlab_edition == "free"
    cfg = tmp_path / "gl-csm.yml"
    cfg.write_text("gitlab_edition: premium\n")
    settings = load_settings(cfg, environ={})
    assert settings.gitlab_edition == "premium" and settings.premium
    cfg.write_text("gitlab_edition: gold\n")
    with pytest.raises(ConfigError, match="gitlab_edition.*free, premium, ultimate.*gold"):
        load_settings(cfg, environ={})


def test_escalation_contacts_are_read_and_checked(tmp_path: Path) -> None:
    """SPEC 8 `people.escalations: {product, support}`: the contacts every escalation
    mentions; they are registry-wide usernames (doctor, sandbox serve)."""
    text = GOOD.replace(
        "  regions:\n",
        "  escalations: {product: pm-esc, support: support-esc}\n  regions:\n",
    )
    s = load_settings(_write(tmp_path, text), environ={})
    assert (s.people.escalations.product, s.people.escalations.support) == (
        "pm-esc",
        "support-esc",
    )
    assert {"pm-esc", "support-esc"} <= set(s.people.usernames())
    none = load_settings(_write(tmp_path, GOOD), environ={})
    assert none.people.escalations.product is None
    for bad, key in (
        ("{product: pm-esc, legal: x}", "people.escalations.legal"),
        ("{product: 'not a user!'}", "people.escalations.product"),
        ("[pm-esc]", "people.escalations"),
    ):
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            load_settings(
                _write(
                    tmp_path, GOOD.replace("  regions:\n", f"  escalations: {bad}\n  regions:\n")
                ),
                environ={},
            )
