"""Test-definition layer: YAML test cases and suites, their models, loading and JSON Schema."""
