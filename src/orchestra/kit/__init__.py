"""Feature-free helpers shared by the components."""
