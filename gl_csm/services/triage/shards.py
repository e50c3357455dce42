"""`--shard I/N` (SPEC 5 Triage): which accounts, and which CSMs' priority reviews,
one run of a sharded `gl-csm triage` plans."""

from __future__ import annotations

import zlib

from gl_csm.errors import UsageError


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``I/N`` (1-based, as CI's CI_NODE_INDEX/CI_NODE_TOTAL) -> (I, N)."""
    if not text:
        return None
    try:
        index, total = (int(p) for p in text.split("/", 1))
    except ValueError:
        raise UsageError(f"--shard: expected I/N like 2/5, got {text!r}") from None
    if total < 1 or not 1 <= index <= total:
        raise UsageError(f"--shard: expected 1 <= I <= N, got {text!r}")
    return index, total


def in_shard(name: str, shard: tuple[int, int] | None) -> bool:
    """A stable share: crc32 of the name, so an account stays in its shard across runs."""
    if shard is None:
        return True
    index, total = shard
    return zlib.crc32(name.encode("utf-8")) % total == index - 1
