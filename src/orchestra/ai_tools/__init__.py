"""The tool endpoints of the ai-service: read-only views (environment, OpenAPI catalogue, plan validation,
documents, runs and their evidence) that the ai-service calls back with a delegation token, and any viewer
may use. The ai-service client side is ai/api_tools.py."""
