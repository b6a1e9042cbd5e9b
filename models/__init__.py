"""The shipped models (installed as ``boilerclf.models``); see MODEL_CARD.md."""
