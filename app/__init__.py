"""garden-api: a live HTTP service for agent-readable articles."""
