"""The repository documents itself: the registry reference and the architecture page are
checked against the code, so a key or module added without its documentation fails here."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from gl_csm.domain.account import parse_account, registry_keys

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PACKAGE = ROOT / "gl_csm"


def _registry_doc() -> str:
    return (DOCS / "registry.md").read_text(encoding="utf-8")


def test_registry_reference_lists_every_key_the_parser_accepts() -> None:
    documented = set(re.findall(r"^\| `([^`]+)` \|", _registry_doc(), re.M))
    assert documented == set(registry_keys()), {
        "undocumented": sorted(set(registry_keys()) - documented),
        "not a key": sorted(documented - set(registry_keys())),
    }


def test_registry_reference_example_is_a_valid_account() -> None:
    block = re.search(r"## A whole file\n\n```yaml\n(.*?)```", _registry_doc(), re.S)
    assert block is not None
    account = parse_account(yaml.safe_load(block.group(1)), "docs/registry.md", "acme-corp")
    assert account.slug == "acme-corp" and account.team is not None


def _modules() -> set[str]:
    return {p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py")}


def test_architecture_page_lists_every_module_and_no_other() -> None:
    page = (DOCS / "architecture.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^- `(gl_csm/[^`]+\.py)`", page, re.M))
    assert listed == _modules(), {
        "not on the page": sorted(_modules() - listed),
        "not in the tree": sorted(listed - _modules()),
    }
