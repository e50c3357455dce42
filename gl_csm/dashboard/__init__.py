"""The static HTML dashboard (`gl-csm report --html DIR`, SPEC 5 Portfolio view)."""
