"""The console's sections, in the order of its navigation bar. A page module names its section
(`active`) when it renders, so the bar marks where the reader is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Section:
    name: str  # what a page passes as `active`
    title: str
    path: str  # under the console's root


NAV: tuple[Section, ...] = (
    Section("conversations", "Conversations", "/conversations"),
    Section("messages", "Messages", "/messages"),
    Section("analytics", "Analytics", "/analytics"),
    Section("webhooks", "Webhooks", "/webhooks"),
    Section("contacts", "Contacts", "/contacts"),
    Section("lines", "Lines", "/lines"),
    Section("settings", "Settings", "/settings"),
    Section("sandbox", "Sandbox", "/sandbox"),
)
HOME = "/conversations"  # where the console's root and a fresh sign-in lead


def section(name: str) -> Section:
    return next(s for s in NAV if s.name == name)
