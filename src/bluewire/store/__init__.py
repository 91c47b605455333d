"""Tables, migrations and queries: the only layer that speaks SQL."""
