"""Rules that can be stated without I/O: statuses, errors, phone numbers, limits, payloads."""
