"""Models by name: where each one lives, loaded lazily once per process."""
