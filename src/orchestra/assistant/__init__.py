"""The assistant: the API side of the ai-service (its HTTP client, explain/suggest/chat endpoints)."""
