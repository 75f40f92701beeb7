"""The HTTP API and the server that runs it beside the Panel app (DESIGN.md §6, `heimdex serve`)."""
