"""The scheduler: admits PENDING runs under limits and priorities, reaps expired leases, re-publishes."""
