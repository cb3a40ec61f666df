"""Retention of finished runs: a policy per project, and the sweep that deletes what it no longer keeps."""
