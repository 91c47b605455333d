"""The service files in deploy/ run commands and options the bluewire CLI really has."""

from __future__ import annotations

import plistlib
import re
import shlex
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import bluewire.config
from bluewire.cli.main import app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNIT = DEPLOY / "systemd" / "bluewire.service"
ENV_EXAMPLE = DEPLOY / "systemd" / "bluewire.env.example"
PLIST = DEPLOY / "launchd" / "com.bluewire.agent.plist"


def _help(command: str) -> str:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def _options(argv: list[str]) -> list[str]:
    return [arg.split("=", 1)[0] for arg in argv if arg.startswith("--")]


def _parses(command: str, argv: list[str], env: dict[str, str] | None = None) -> None:
    """Click parses `argv` for `command` (required options present, values valid), runs nothing."""
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in (env or {}).items():
            mp.setenv(name, value)
        group.commands[command].make_context(command, list(argv))


def _unit_service() -> list[tuple[str, str]]:
    """The [Service] section's `Key=Value` lines, in order (keys may repeat)."""
    entries, section = [], None
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
        elif section == "[Service]":
            key, _, value = line.partition("=")
            entries.append((key.strip(), value.strip()))
    return entries


def _setting_names(text: str) -> set[str]:
    return set(re.findall(r"\b(BLUEWIRE_[A-Z0-9_]+)=", text))


def test_the_launchd_plist_runs_bluewire_agent_with_options_it_accepts() -> None:
    plist = plistlib.loads(PLIST.read_bytes())
    assert plist["Label"] == "com.bluewire.agent"
    program, command, *argv = plist["ProgramArguments"]
    assert Path(program).name == "bluewire" and Path(program).is_absolute()
    assert command == "agent"
    listed = _help("agent")
    for option in _options(argv):
        assert option in listed, f"`bluewire agent` has no option {option}"
    env = plist.get("EnvironmentVariables", {})
    # The token comes from the environment, which `bluewire agent --help` says it reads.
    assert "--token" not in argv and "BLUEWIRE_AGENT_TOKEN" in env
    assert "BLUEWIRE_AGENT_TOKEN" in listed
    _parses("agent", argv, {"BLUEWIRE_AGENT_TOKEN": env["BLUEWIRE_AGENT_TOKEN"]})
    assert plist["RunAtLoad"] is True and plist["KeepAlive"] is True
    assert plist["StandardOutPath"] and plist["StandardErrorPath"]


def test_the_systemd_unit_runs_bluewire_serve_with_options_it_accepts() -> None:
    service = _unit_service()
    starts = [value for key, value in service if key == "ExecStart"]
    assert len(starts) == 1
    program, command, *argv = shlex.split(starts[0])
    assert Path(program).name == "bluewire" and Path(program).is_absolute()
    assert command == "serve"
    listed = _help("serve")
    for option in _options(argv):
        assert option in listed, f"`bluewire serve` has no option {option}"
    _parses("serve", argv)

    settings = dict(service)
    assert settings["User"] and settings["User"] != "root"
    assert settings["KillSignal"] == "SIGTERM"  # what bluewire stops gracefully on
    assert settings["NoNewPrivileges"] == "yes" and settings["ProtectSystem"] == "strict"
    # With the file system read-only, the store lives where the service may write.
    assert settings["WorkingDirectory"] in settings["ReadWritePaths"].split()
    database = dict(value.split("=", 1) for key, value in service if key == "Environment")
    assert database["BLUEWIRE_DATABASE_URL"].startswith(
        "sqlite:///" + settings["WorkingDirectory"])


def test_the_deploy_files_name_only_settings_bluewire_reads() -> None:
    source = Path(bluewire.config.__file__).read_text()
    names = _setting_names(UNIT.read_text()) | _setting_names(ENV_EXAMPLE.read_text())
    assert "BLUEWIRE_DATABASE_URL" in names
    for name in names:
        short = name.removeprefix("BLUEWIRE_")
        assert f'"{name}"' in source or f'"{short}"' in source, f"bluewire does not read {name}"
