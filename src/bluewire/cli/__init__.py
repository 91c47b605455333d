"""The `bluewire` command."""
