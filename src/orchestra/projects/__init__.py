"""Projects: the container of environments, test cases, suites and their runs."""
