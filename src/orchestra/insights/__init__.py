"""Insights from the stored history of runs: flakiness, run comparison, trends."""
