"""Test data, from the plan to the clean-up.

plans/     the DataPlan format (dataplan_model), its validation against the SUT's description, its graph
           and templates, and its published JSON Schema
values/    schema-driven value generation (formats, numbers, name hints, JSON Schema helpers)
planner/   the built-in planner (no model): plans from the OpenAPI description alone
resolver   runs a plan against the SUT (calls, captures, look-ups) in dependency waves; calls builds and
           sends its requests; records are what it hands back
provider   the plan of a run: pinned, cached (plan_cache) or asked of the ai-service, with the built-in
           planner as fallback
ledger_store, undo_calls, sweep
           the data ledger: every created entity with its sealed undo call, undone by the run's cleanup or,
           later, by a sweep
The executor's data and cleanup phases, the scheduler's periodic sweep and the API's dataplans/ and ledger/
endpoints use this package; it uses only the step toolkit (steps/), the OpenAPI catalogue and the bottom
layers.
"""
