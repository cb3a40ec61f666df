"""Runs: creating, listing, cancelling and reporting test runs and suite runs."""
