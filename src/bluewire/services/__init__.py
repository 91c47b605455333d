"""Use cases: each one transaction that writes the fact, its events and its deliveries."""
