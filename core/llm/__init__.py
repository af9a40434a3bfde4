"""The model layer: providers, routing, task contracts, the embedded engine."""
