"""Errors of the command line that end a command with exit code 2 and a one-line reason."""

from __future__ import annotations


class UsageError(Exception):
    """Bad arguments or inputs, or something the command needs is not there."""
