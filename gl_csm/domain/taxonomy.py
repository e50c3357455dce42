"""The label taxonomy of SPEC section 6, with the team's renames.

Canonical names (``health::red``) are what the code speaks; the config's ``labels:``
map lets a team that already uses other names (``HS::Red``) keep them. Every label the
bot sends goes through :meth:`Taxonomy.name`, because GitLab silently creates any
unknown label name it is sent (doc/api/issues.md) and a typo would fork the taxonomy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from gl_csm.errors import ConfigError

# Colors follow the usual traffic-light convention so a board reads at a glance.
_GREEN, _YELLOW, _RED, _GREY = "#108548", "#c17d10", "#dd2b0e", "#868686"
_BLUE, _PURPLE, _TEAL = "#1f75cb", "#694cc0", "#0e7490"


@dataclass(frozen=True)
class LabelDef:
    """One label of the taxonomy, by its canonical name."""

    name: str
    color: str
    description: str

    @property
    def scope(self) -> str:
        """The scoped-label key: everything before the last ``::`` (doc/user/project/labels.md)."""
        return self.name.rsplit("::", 1)[0] if "::" in self.name else ""


def _defs() -> tuple[LabelDef, ...]:
    out: list[LabelDef] = []

    def add(name: str, color: str, description: str) -> None:
        out.append(LabelDef(name, color, description))

    # SPEC 3: priority 1 (most attention) .. 4 (digital, no CSM).
    for n, color, meaning in (
        (1, _RED, "highest engagement: onboarding, at risk, expansion or strategic ARR"),
        (2, _YELLOW, "standard engagement cadence"),
        (3, _BLUE, "child account not managed on its own"),
        (4, _GREY, "digital-only customer, not CSM-assigned"),
    ):
        add(f"priority::{n}", color, f"Account priority {n}: {meaning} (gl-csm, SPEC 3)")
    # SPEC 4 / handbook 002: health by scorecard; sentiment is the CSM's own call.
    for color_name, color in (("green", _GREEN), ("yellow", _YELLOW), ("red", _RED)):
        add(f"health::{color_name}", color, f"Account health {color_name} (set by gl-csm)")
    # A customer with no health data yet gets its own list on the portfolio board
    # instead of falling off it.
    add("health::unknown", _GREY, "Account health unknown: no scorecard data yet (set by gl-csm)")
    for color_name, color in (("green", _GREEN), ("yellow", _YELLOW), ("red", _RED)):
        add(
            f"sentiment::{color_name}",
            color,
            f"CSM sentiment {color_name}: set by a person; gl-csm reads it as the newest sentiment",
        )
    for stage, color, meaning in (
        ("pre-sales", _GREY, "not a paying customer yet"),
        ("onboarding", _BLUE, "inside the onboarding window"),
        ("adopting", _GREEN, "onboarded, adopting use cases"),
        ("will-churn", _RED, "customer confirmed they will not renew (set after the checklist)"),
        ("churned", _GREY, "customer has churned"),
    ):
        add(f"lifecycle::{stage}", color, f"Lifecycle: {meaning}")
    for segment in ("strategic", "growth", "scale", "commercial"):
        add(f"segment::{segment}", _PURPLE, f"Customer segment: {segment}")
    for state, color, meaning in (
        ("needed", _RED, "a person asks for triage of this account"),
        ("open", _YELLOW, "the account is in triage"),
        ("exit-proposed", _GREEN, "health is back to green; the bot proposes leaving triage"),
        ("resolved", _GREEN, "a person confirms the triage is resolved; the bot closes it"),
    ):
        add(f"triage::{state}", color, f"Triage: {meaning}")
    for state, color, meaning in (
        ("requested", _RED, "a person asks for an escalation"),
        ("open", _RED, "an escalation is open"),
        ("resolved", _GREEN, "the escalation is resolved"),
    ):
        add(f"escalation::{state}", color, f"Escalation: {meaning}")
    for severity, color in (
        ("critical", _RED),
        ("high", _RED),
        ("medium", _YELLOW),
        ("low", _BLUE),
    ):
        add(f"escalation-severity::{severity}", color, f"Escalation severity: {severity}")
    add("action::promote", _TEAL, "Ask gl-csm to promote the account to post-sales")
    # SPEC 6.1-6.3 / handbook 000: risk taxonomy. These are scoped labels, so an issue
    # holds one value per scope (doc/user/project/labels.md): the bot labels the first
    # (primary) value of each list and writes all of them in the issue text.
    for value in RISK_TYPES:
        add(f"risk-type::{value}", _RED, f"Risk type: {value} (handbook 000)")
    for value in RISK_REASONS:
        add(f"risk-reason::{value}", _YELLOW, f"Risk reason: {value}")
    for value in RISK_IMPACTS:
        add(f"risk-impact::{value}", _YELLOW, f"Risk impact: {value}")
    return tuple(out)


RISK_TYPES: tuple[str, ...] = (
    "cost-budget",
    "roi",
    "competitive",
    "product",
    "product-usage",
    "engagement-champion",
)
RISK_REASONS: tuple[str, ...] = (
    "lack-of-adoption",
    "product-value-gaps",
    "product-quality-availability",
    "lack-of-engagement-sponsor",
    "loss-of-budget",
    "corporate-decision",
    "other",
)
RISK_IMPACTS: tuple[str, ...] = (
    "customer-churn",
    "tier-downgrade",
    "seat-churn",
    "customer-sentiment",
    "competitor",
    "stage",
)

CANONICAL: tuple[LabelDef, ...] = _defs()
_BY_NAME: dict[str, LabelDef] = {d.name: d for d in CANONICAL}


@dataclass(frozen=True)
class Taxonomy:
    """Canonical label names mapped to the names this team uses in GitLab."""

    renames: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for canonical, actual in self.renames.items():
            if canonical not in _BY_NAME:
                raise ConfigError(
                    f"labels: {canonical!r} is not a gl-csm label; expected one of the "
                    f"taxonomy names of SPEC section 6 (e.g. 'health::red')"
                )
            if not isinstance(actual, str) or not actual.strip():
                raise ConfigError(f"labels.{canonical}: expected a non-empty label name")
            if "," in actual:
                raise ConfigError(f"labels.{canonical}: a label name cannot contain ','")
            if actual in seen:
                raise ConfigError(
                    f"labels.{canonical}: {actual!r} is already the name of {seen[actual]!r}"
                )
            seen[actual] = canonical
        for d in CANONICAL:
            if d.name not in self.renames and d.name in seen:
                raise ConfigError(
                    f"labels.{seen[d.name]}: {d.name!r} is still the name of another label"
                )

    def name(self, canonical: str) -> str:
        """The GitLab name of a taxonomy label; unknown names are a programming error."""
        if canonical not in _BY_NAME:
            raise KeyError(f"{canonical!r} is not in the gl-csm taxonomy")
        return self.renames.get(canonical, canonical)

    def canonical(self, actual: str) -> str | None:
        """The canonical name of a GitLab label name, or None if it is not ours."""
        for canonical, renamed in self.renames.items():
            if renamed == actual:
                return canonical
        if actual in _BY_NAME and actual not in self.renames:
            return actual
        return None

    def value_of(
        self, labels: Iterator[str] | list[str] | tuple[str, ...], scope: str
    ) -> str | None:
        """The value of the canonical scope (``sentiment``) among GitLab label names."""
        prefix = scope + "::"
        for label in labels:
            canonical = self.canonical(label)
            if canonical and canonical.startswith(prefix):
                return canonical[len(prefix) :]
        return None

    def definitions(self) -> tuple[LabelDef, ...]:
        """Every label as GitLab should have it (renamed where the team asked)."""
        return tuple(LabelDef(self.name(d.name), d.color, d.description) for d in CANONICAL)
