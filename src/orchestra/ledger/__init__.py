"""The API of the data ledger: what runs created in a SUT, and sweeps that undo leftovers (the engine is
testdata/ledger_store, undo_calls and sweep)."""
