"""The audit log: who created, changed, deleted, ran or cancelled what, and who created or used a token."""
