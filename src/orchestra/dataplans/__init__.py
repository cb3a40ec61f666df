"""The API of test-case DataPlans: review, edit, pin and generate (the engine is testdata/)."""
