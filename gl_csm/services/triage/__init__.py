"""The daily run: tracking card, triage issue, escalation, reminders, shards, report."""
