"""Apply: sync a project's test cases and suites from definitions (files, CI) in one transaction."""
