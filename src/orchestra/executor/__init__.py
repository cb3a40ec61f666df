"""Executor: runs test cases step by step against the System Under Test."""
