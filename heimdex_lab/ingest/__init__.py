"""Ingest stages (pure-ish functions) and the pipeline that runs them with state and resume."""
