"""The web app: Panel views and state (app.py), its widgets, media route and accounts."""
