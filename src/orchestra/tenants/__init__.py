"""Tenants: the unit of isolation. Embedded mode runs everything in one tenant (``ORCHESTRA_TENANT``)."""
