"""The HTTP API: parse, authenticate, and map the Sendblue wire format to service calls."""
