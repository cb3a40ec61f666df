"""DataPlan: the test data a run needs, as data (never code) — its model, generators, validation, the
built-in planner and the Data Resolver that executes a plan against the SUT."""
