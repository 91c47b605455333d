"""bluewire: a self-hosted iMessage and SMS messaging API, wire-compatible with Sendblue."""

__version__ = "0.1.0"
