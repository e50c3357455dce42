"""The repository documents itself: the registry reference and the architecture page are
checked against the code, so a key or module added without its documentation fails here."""

from __future__ import annotations

import ast
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


def _imports_of(path: Path, module: str, modules: set[str]) -> set[str]:
    """Every gl_csm module ``path`` imports, wherever the import statement stands
    (top level, inside a function, under ``if TYPE_CHECKING``)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(m for a in node.names if (m := owner(a.name)))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.add(target if target in modules else owner(base) or "")
    found.discard("")
    found.discard(module)
    return found


def test_no_import_cycle_even_through_imports_inside_functions() -> None:
    """docs/architecture.md "Layering": a module never imports, directly or through
    others, a module that imports it back, not even from inside a function."""
    paths = _module_paths()
    graph = {m: _imports_of(p, m, set(paths)) for m, p in paths.items()}
    cycles = []
    for start in graph:
        stack, seen = [(start, (start,))], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    cycles.append(" -> ".join((*trail, start)))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, (*trail, nxt)))
    assert cycles == [], cycles[:5]


def _module_paths() -> dict[str, Path]:
    return {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
        for p in PACKAGE.rglob("*.py")
    }


def test_collaboration_and_moves_import_nothing_from_the_daily_run() -> None:
    """docs/architecture.md "Layering": what the customer's project and the account moves
    share with the daily run sits in services/ itself, so they never import triage/,
    not even from inside a function."""
    paths = _module_paths()
    found = sorted(
        f"{module} imports {target}"
        for module, path in paths.items()
        if module.startswith(("gl_csm.services.collaboration", "gl_csm.services.moves"))
        for target in _imports_of(path, module, set(paths))
        if target.startswith("gl_csm.services.triage")
    )
    assert found == [], found


#: docs/architecture.md "Layering": a function longer than this is split into named steps.
LINE_BUDGET = 120
#: The functions still over the budget, each held to its length today so it only shrinks.
OVER_BUDGET: dict[str, int] = {}


def _function_lengths() -> dict[str, int]:
    lengths = {}
    for path in PACKAGE.rglob("*.py"):
        name = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                key = f"{name}::{node.name}"
                lengths[key] = max(lengths.get(key, 0), node.end_lineno - node.lineno + 1)
    return lengths


def test_no_function_grows_past_the_line_budget() -> None:
    lengths = _function_lengths()
    over = {key: n for key, n in lengths.items() if n > OVER_BUDGET.get(key, LINE_BUDGET)}
    assert over == {}, f"split these into named steps (budget {LINE_BUDGET} lines): {over}"
    # An entry that came back under the budget leaves the list, so it cannot grow again.
    assert {k for k in OVER_BUDGET if lengths.get(k, 0) <= LINE_BUDGET} == set()


def test_comments_cite_sources_not_issue_numbers() -> None:
    """docs/architecture.md: comments cite the handbook, GitLab's sources or this
    repository's docs; an issue tracker the repository does not carry explains nothing."""
    cited = re.compile(r"\b[Ii]ssues? \d+\b|\b[Ii]tems? \d+\b")
    found = [
        f"{p.relative_to(ROOT)}:{n}"
        for folder in ("gl_csm", "tests", "benchmarks")
        for p in sorted((ROOT / folder).rglob("*.py"))
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if cited.search(line)
    ]
    assert found == [], found[:10]
