"""The test language: the models of test cases and suites (testcase_model), the YAML/JSON loader with
line/column errors (loader) and the published JSON Schemas (schema_export). Feature-free: the API, the CLI,
the executor and the ai-service all read definitions through it."""
