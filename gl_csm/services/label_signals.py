"""What people said through labels on an account's tracking issue: the SPEC 4 label
signals (`sentiment::COLOR`, `triage::needed`) and `escalation::requested`.

Read by the daily run, by reactions and by the collaboration services (which assess an
account to write its project): it lives below all of them, so none imports another's
run to read two labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gl_csm.config import Settings
from gl_csm.domain.health import LabelSignals


def signals_of(issue: Mapping[str, Any] | None, settings: Settings) -> tuple[LabelSignals, bool]:
    """SPEC 4 LabelSignals from the tracking issue's labels, and `escalation::requested`."""
    labels = list((issue or {}).get("labels") or [])
    tax = settings.taxonomy
    return (
        LabelSignals(
            sentiment=tax.value_of(labels, "sentiment"),
            triage_needed=tax.name("triage::needed") in labels,
        ),
        tax.name("escalation::requested") in labels,
    )
