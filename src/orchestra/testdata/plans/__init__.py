"""The DataPlan format: model, validation, dependency graph, templates and the published schema."""
