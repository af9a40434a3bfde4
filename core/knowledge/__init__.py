"""Knowledge that grows: runbooks from repairs that worked, anti-patterns from those that failed.

The package also holds the embedded engine's data files (`*.toml`, read by
core/llm/embedded/loader.py); the modules here are the team's own, learned
knowledge: the symptoms hash, the entries, their store's port, the service that
writes them after an execution, and the evidence source that reads them back.
"""
