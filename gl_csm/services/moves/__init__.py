"""Moving accounts: handoff, disengage, accounts import."""
