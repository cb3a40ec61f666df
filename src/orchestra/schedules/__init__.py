"""Schedules: cron expressions with a time zone that start a suite of a project on one of its environments."""
