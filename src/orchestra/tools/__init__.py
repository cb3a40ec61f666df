"""Read-only endpoints the ai-service calls back with a delegation token (and any viewer may use)."""
