"""The Messages.app connector: a Mac signed in to Messages sends with AppleScript and is watched
through chat.db (the engine inside `bluewire agent`)."""

from .connector import MessagesAppConnector

__all__ = ["MessagesAppConnector"]
