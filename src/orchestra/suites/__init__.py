"""Suites: named groups of a project's test cases (by name, or "*" for all) with shared variables."""
