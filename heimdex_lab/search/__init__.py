"""Scene search: signal fusion (pure) and the engine that queries the stores."""
