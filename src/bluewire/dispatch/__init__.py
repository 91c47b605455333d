"""The dispatch worker: hands QUEUED messages to connectors and applies what they report."""
