"""Logging for `bluewire serve`: plain text for a terminal, JSON lines for everything else.

The same configuration (a `logging.config.dictConfig` dictionary) is handed to uvicorn, so its
own loggers write through the same formatter, in every process it runs. Log calls about a
message pass `extra={"message_handle": ...}`; in JSON it is a field of its own.
"""

from __future__ import annotations

import copy
import logging.config
import sys
from typing import Any, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def resolve_format(value: str | None, stream: TextIO | None = None) -> str:
    """BLUEWIRE_LOG_FORMAT: `text` or `json`; unset, text on a terminal and JSON otherwise."""
    if value is None:
        return "text" if (stream or sys.stderr).isatty() else "json"
    chosen = value.strip().lower()
    if chosen not in FORMATS:
        raise SystemExit(f"BLUEWIRE_LOG_FORMAT must be text or json, not {value!r}")
    return chosen


def _formatter(log_format: str) -> dict[str, Any]:
    if log_format == "text":
        return {"format": TEXT_FORMAT}
    return {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(levelname)s %(name)s %(message)s",
        "rename_fields": {"levelname": "level", "name": "logger"},
        "timestamp": "time",
        # uvicorn adds `color_message`, its message with terminal colour codes: not a field.
        "reserved_attrs": [*RESERVED_ATTRS, "color_message"],
    }


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """A dictConfig for one format and level: one stderr handler on the root logger, which
    uvicorn's loggers propagate to (uvicorn names its formatters `default` and `access`)."""
    formatter = _formatter(log_format)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter, "access": dict(formatter)},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "default",
                                 "stream": "ext://sys.stderr"}},
        "root": {"level": level.upper(), "handlers": ["default"]},
        "loggers": {name: {"handlers": [], "propagate": True} for name in _UVICORN_LOGGERS},
    }


def configure_logging(log_format: str | None, level: str) -> dict[str, Any]:
    """Configure this process's logging; returns the configuration, for uvicorn's `log_config`."""
    config = logging_config(resolve_format(log_format), level)
    logging.config.dictConfig(copy.deepcopy(config))  # dictConfig consumes what it is given
    return config
