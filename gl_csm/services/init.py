"""`gl-csm init [DIR]`: scaffold a CS team's own repository (README "Run it for your
team"): a commented gl-csm.yml, one example account per segment, a .gitlab-ci.yml that
includes gl-csm's CI/CD components by version, a .gitignore for every output, and a
short README for the CS team.

The files are package data (gl_csm/scaffold/). Planned first, then written: a file
already there with the same content is kept (a rerun writes nothing); one with other
content is never overwritten — the whole run is refused (exit 2) before any write.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2

from gl_csm import __version__
from gl_csm.errors import UsageError
from gl_csm.plan import Plan

#: Scaffold file (package data) -> where it goes in the team's repository.
FILES: tuple[tuple[str, str], ...] = (
    ("gl-csm.yml", "gl-csm.yml"),
    ("accounts/example-strategic.yml", "accounts/example-strategic.yml"),
    ("accounts/example-growth.yml", "accounts/example-growth.yml"),
    ("accounts/example-scale.yml", "accounts/example-scale.yml"),
    ("accounts/example-commercial.yml", "accounts/example-commercial.yml"),
    ("gitlab-ci.yml.j2", ".gitlab-ci.yml"),
    ("gitignore", ".gitignore"),
    ("README.md.j2", "README.md"),
)
#: Where the gl-csm project (its components and image) lives on the team's GitLab.
DEFAULT_PROJECT = "customer-success/gl-csm"


@dataclass(frozen=True)
class ScaffoldFile:
    path: Path
    content: str
    exists: bool


def render_scaffold(project: str, image: str | None = None) -> dict[str, str]:
    """Each file's text by its path in the team's repository."""
    context = {
        "version": __version__,
        "project": project.strip("/"),
        # The image gl-csm's own pipeline pushes for this version (.gitlab-ci.yml there).
        "image": image or f"$CI_REGISTRY/{project.strip('/')}:{__version__}",
    }
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    base = resources.files("gl_csm.scaffold")
    out: dict[str, str] = {}
    for source, target in FILES:
        text = base.joinpath(source).read_text(encoding="utf-8")
        out[target] = env.from_string(text).render(context) if source.endswith(".j2") else text
    return out


def plan_init(folder: Path, project: str = DEFAULT_PROJECT, image: str | None = None) -> Plan:
    """The files to write into ``folder``; refused (nothing written) when one is there
    with other content, or ``folder`` is not a directory."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"init {folder}: not a directory")
    files = [
        ScaffoldFile(folder / name, text, (folder / name).exists())
        for name, text in render_scaffold(project, image).items()
    ]
    clashes = [f for f in files if f.exists and _read(f.path) != f.content]
    if clashes:
        names = ", ".join(str(f.path) for f in clashes)
        raise UsageError(
            f"init {folder}: {names} already there with other content; gl-csm init never "
            f"overwrites a file (nothing was written): move it away, or init another DIR"
        )
    plan = Plan()
    for f in files:
        if f.exists:
            continue
        plan.add(
            "write-file",
            str(f.path),
            f"{len(f.content.splitlines())} lines",
            lambda _gw, _r, f=f: _write(f),
        )
    if not plan.changes:
        plan.notes.append(f"{folder}: every scaffold file is there; nothing to do")
    return plan


def next_steps(folder: Path) -> str:
    """What to do after init, printed once the files are written."""
    where = "" if folder.resolve() == Path.cwd().resolve() else f"cd {folder} && "
    return (
        "next: try it on the built-in sandbox, then read README.md (there) for GitLab:\n"
        f"  {where}gl-csm setup && gl-csm triage --format json > triage-1.json "
        "&& gl-csm report --input triage-1.json"
    )


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _write(f: ScaffoldFile) -> str:
    f.path.parent.mkdir(parents=True, exist_ok=True)
    # Exclusive create: a file that appeared since the plan is not overwritten.
    with f.path.open("x", encoding="utf-8") as handle:
        handle.write(f.content)
    return str(f.path)
