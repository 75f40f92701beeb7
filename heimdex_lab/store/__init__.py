"""Storage: the catalog (source of truth), the vector collections and the media files."""
