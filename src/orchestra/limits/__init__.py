"""Limits: the platform-wide and per-tenant caps on active runs, and the tenant's fair-share weight."""
