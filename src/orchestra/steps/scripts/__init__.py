"""Postman scripts run for real: JavaScript in an embedded V8 (mini-racer), in worker processes, each script
with a time and a memory limit, seeing nothing but the Postman sandbox (pm, the legacy globals, chai)."""
