"""The trigger between scheduler and executors. Messages carry only a run id; PostgreSQL holds the truth."""
