"""The web app's core: background ingest of uploads, media serving, app state (views: apps/)."""
