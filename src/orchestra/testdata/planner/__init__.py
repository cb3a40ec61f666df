"""The built-in planner: DataPlans derived from the OpenAPI description alone, without a model."""
