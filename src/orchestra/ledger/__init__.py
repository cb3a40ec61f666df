"""The data ledger: what runs created in a SUT and how to undo it; cleanup after runs and sweeps."""
