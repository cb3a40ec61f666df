"""API tokens for CI/CD: created by an editor or admin, scoped to a project and a role, shown once."""
