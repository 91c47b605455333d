"""Imports go down only: a connector depends on the domain and the connector protocol alone, so
it can run in another process or on another machine (a Mac's agent). Gateway components (the
API, services, store, workers, the agent hub, the sandbox network's gateway side) are never
imported from `connectors/`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bluewire

PACKAGE = Path(bluewire.__file__).parent
CONNECTORS = PACKAGE / "connectors"
GATEWAY = tuple(f"bluewire.{name}" for name in
                ("api", "services", "store", "app", "dispatch", "delivery", "agents",
                 "console", "sandbox"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, package: str) -> list[tuple[int, str]]:
    """Every module `source` (a module of `package`) imports, relative imports resolved."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # `from .. import store` imports the module bluewire.store
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def imported(path: Path) -> list[tuple[int, str]]:
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return imports_of(path.read_text(), package)


def is_gateway(module: str) -> bool:
    return any(module == layer or module.startswith(layer + ".") for layer in GATEWAY)


def test_relative_imports_count() -> None:
    source = ("from ...store.writer import Writer\nfrom ... import services\n"
              "from . import frames\nimport bluewire.app\n"
              "if TYPE_CHECKING:\n    from ...api.http import Scope\n")
    modules = {module for _, module in imports_of(source, "bluewire.connectors.agent")}
    assert {"bluewire.store.writer", "bluewire.services", "bluewire.connectors.agent.frames",
            "bluewire.app", "bluewire.api.http"} <= modules
    assert not is_gateway("bluewire.connectors.agent.frames")
    assert not is_gateway("bluewire.application") and not is_gateway("bluewire.domain")


@pytest.mark.parametrize("path", sorted(CONNECTORS.rglob("*.py")),
                         ids=lambda path: str(path.relative_to(PACKAGE)))
def test_connectors_import_no_gateway_layer(path: Path) -> None:
    wrong = [f"line {line}: {module}" for line, module in imported(path) if is_gateway(module)]
    assert not wrong, f"{path.relative_to(PACKAGE)} imports gateway layers: {wrong}"
