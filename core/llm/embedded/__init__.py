"""The embedded rule-based engine: valid answers for every task with no model at all."""

from core.llm.embedded.engine import MODEL_NAME, EmbeddedEngine

__all__ = ["MODEL_NAME", "EmbeddedEngine"]
