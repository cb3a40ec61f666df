"""Health and schema endpoints."""
