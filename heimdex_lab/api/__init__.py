"""The HTTP API and `heimdex serve`, which runs it beside the Panel app (architecture.md §6)."""
