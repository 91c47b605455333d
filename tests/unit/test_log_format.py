"""The log formats: JSON lines with `message_handle` as a field, or text; chosen by setting or
by whether stderr is a terminal."""

from __future__ import annotations

import io
import json
import logging.config

import pytest

from bluewire.observability.logs import logging_config, resolve_format


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_unset_it_is_text_on_a_terminal_and_json_otherwise() -> None:
    assert resolve_format(None, _Stream(tty=True)) == "text"
    assert resolve_format(None, _Stream(tty=False)) == "json"
    assert resolve_format(" JSON ", _Stream(tty=True)) == "json"


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(SystemExit, match="BLUEWIRE_LOG_FORMAT"):
        resolve_format("xml")


def _formatter(log_format: str) -> logging.Formatter:
    config = logging_config(log_format, "info")
    factory = logging.config.DictConfigurator(config)
    return factory.configure_formatter(config["formatters"]["default"])  # type: ignore[no-any-return]


def test_a_json_line_carries_the_message_handle_as_a_field() -> None:
    record = logging.makeLogRecord({
        "name": "bluewire.dispatch.worker", "levelno": logging.WARNING, "levelname": "WARNING",
        "msg": "message %s failed", "args": ("h-1",), "message_handle": "h-1",
        "color_message": "\x1b[36mcolours\x1b[0m",
    })
    line = json.loads(_formatter("json").format(record))
    assert line["message"] == "message h-1 failed"
    assert line["message_handle"] == "h-1"
    assert line["level"] == "WARNING" and line["logger"] == "bluewire.dispatch.worker"
    assert "time" in line and "color_message" not in line


def test_text_lines_read_as_before() -> None:
    record = logging.makeLogRecord({"name": "bluewire", "levelname": "INFO", "msg": "hello"})
    assert _formatter("text").format(record).endswith(" INFO bluewire: hello")
