"""Offline replay: sanitized request packs through a model, results, a report, a score."""
