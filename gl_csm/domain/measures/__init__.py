"""The scorecard's measures (SPEC 4), one module per measure or family of measures:
``base`` defines what a measure is, ``registry`` names every module's ``DEFINITIONS`` in
one immutable table."""
