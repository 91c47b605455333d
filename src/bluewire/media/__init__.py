"""Media files: fetched from URLs, uploaded, received; kept in a media store."""
