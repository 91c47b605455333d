"""Connectors serve lines on one network. They depend on the domain and this protocol alone."""
