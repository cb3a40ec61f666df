"""Export and import of a project (definitions, environments without secret values, schedules, retention)
as one versioned document, for moving it between installations."""
