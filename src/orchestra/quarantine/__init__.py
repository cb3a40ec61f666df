"""Muted test cases: a test case muted on an environment, with a reason and an expiry."""
