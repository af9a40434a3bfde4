"""Howl's domain: alerts, incidents, debate, models, policy, runs. No adapters here."""

__version__ = "0.1.0"
