"""The embedded rule-based engine: valid answers for every task with no model at all."""

from core.llm.embedded.engine import MODEL_NAME, EmbeddedEngine
from core.llm.embedded.loader import knowledge_from_config

__all__ = ["MODEL_NAME", "EmbeddedEngine", "knowledge_from_config"]
