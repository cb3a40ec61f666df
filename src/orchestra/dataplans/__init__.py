"""DataPlans of test cases: the provider runs use (pinned → cached → planner), the cache, review/edit/pin."""
