"""Alerts in, incidents out: payload normalisation, grouping, the incident lifecycle."""
