"""Environments: the SUTs a project tests against (base URL, variables, write-only secrets)."""
