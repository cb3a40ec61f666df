"""The `orchestra` command line: talks to a running server's REST API or to the embedded engine."""
