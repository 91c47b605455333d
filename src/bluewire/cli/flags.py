"""The flags every command spells the same way, and the old spellings still accepted.

The server and the API key pair: `--server` (or BLUEWIRE_URL), `--api-key-id` and
`--api-secret-key` (BLUEWIRE_API_KEY_ID, BLUEWIRE_API_SECRET_KEY), as the headers and the
variables name them. What is not the server's nor the API key pair's has a name of its own: a
webhook's `--signing-secret` and `--webhook-url`, a BlueBubbles line's `--bluebubbles-url` and
`--bluebubbles-password`.

Spellings that earlier versions documented (`--url`, `--key-id`, `--secret`, a webhook's
`--secret` and `--url`, a BlueBubbles line's `--url` and `--password`) keep working, with the
meaning they had in each command, but are hidden from help: the commands of `Typer` below get a
hidden option for each.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_URL = "http://127.0.0.1:8080"

Server = Annotated[str, typer.Option("--server", envvar="BLUEWIRE_URL",
                                     help="The server's base URL (or BLUEWIRE_URL).")]
ApiKeyId = Annotated[str, typer.Option(
    "--api-key-id", envvar="BLUEWIRE_API_KEY_ID",
    help="The API key id, sb-api-key-id (or BLUEWIRE_API_KEY_ID).")]
ApiSecretKey = Annotated[str, typer.Option(
    "--api-secret-key", envvar="BLUEWIRE_API_SECRET_KEY",
    help="The API secret key, sb-api-secret-key (or BLUEWIRE_API_SECRET_KEY).")]
# What a sent message is counted under in analytics (`send`, `send-group`).
Campaign = Annotated[str | None, typer.Option(
    "--campaign", help="The campaign the message belongs to, for analytics.")]
Tags = Annotated[list[str] | None, typer.Option(
    "--tag", help="A tag of the message, for analytics (repeatable, up to 10).")]


def labels(campaign: str | None, tags: list[str] | None) -> dict[str, Any]:
    """A send's `campaign` and `tags` fields, those given."""
    return {**({"campaign": campaign} if campaign else {}), **({"tags": tags} if tags else {})}

# (parameter, old flag), the more specific first: each old flag keeps the meaning it had in
# each command (`--secret` was a webhook's signing secret in `webhooks add` and the API secret
# key elsewhere; `--url` the webhook's URL in `deliveries replay`, a BlueBubbles server's in
# `lines add`, and the server's elsewhere).
OLD_SPELLINGS: tuple[tuple[str, str], ...] = (
    ("signing_secret", "--secret"),
    ("api_secret_key", "--secret"),
    ("api_key_id", "--key-id"),
    ("webhook_url", "--url"),
    ("bluebubbles_url", "--url"),
    ("server", "--url"),
    ("bluebubbles_password", "--password"),
)
_OLD = "old_spelling__"
_CTX = f"{_OLD}ctx"


class Typer(typer.Typer):
    """typer.Typer whose commands (and group callbacks) also take OLD_SPELLINGS, hidden."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        register = super().command(*args, **kwargs)
        return lambda function: _registered(register, function)

    def callback(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        register = super().callback(*args, **kwargs)
        return lambda function: _registered(register, function)


def _registered(register: Callable[[Any], Any], function: F) -> F:
    register(taking_old_spellings(function))
    return function


def taking_old_spellings(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` with a hidden option for each old spelling of its flags; a value given with
    one stands in for the new flag's, unless that was given on the command line too."""
    signature = inspect.signature(function, eval_str=True)
    parameters = list(signature.parameters.values())
    taken = {flag for parameter in parameters for flag in _flags(parameter)}
    stands_for: dict[str, str] = {}
    for name, flag in OLD_SPELLINGS:
        if name not in signature.parameters or flag in taken:
            continue
        taken.add(flag)
        hidden = _OLD + flag.lstrip("-").replace("-", "_")
        stands_for[hidden] = name
        parameters.append(inspect.Parameter(
            hidden, inspect.Parameter.KEYWORD_ONLY, default=None,
            annotation=Annotated[str | None, typer.Option(flag, hidden=True)]))
    if not stands_for:
        return function
    context = next((p.name for p in parameters if p.annotation is typer.Context), None)
    if context is None:
        context = _CTX
        parameters.append(inspect.Parameter(_CTX, inspect.Parameter.KEYWORD_ONLY,
                                            annotation=typer.Context))

    @functools.wraps(function)
    def run(**kwargs: Any) -> Any:
        ctx = kwargs[context] if context != _CTX else kwargs.pop(_CTX)
        for hidden, name in stands_for.items():
            value = kwargs.pop(hidden, None)
            source = ctx.get_parameter_source(name)
            if value is not None and getattr(source, "name", None) != "COMMANDLINE":
                kwargs[name] = value
        return function(**kwargs)

    keyword_last = sorted(parameters, key=lambda p: p.kind == inspect.Parameter.KEYWORD_ONLY)
    run.__signature__ = signature.replace(parameters=keyword_last)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in keyword_last}
    return run


def _flags(parameter: inspect.Parameter) -> list[str]:
    """The flags a parameter of a command is given with."""
    info = next((meta for meta in getattr(parameter.annotation, "__metadata__", ())
                 if isinstance(meta, typer.models.ParameterInfo)), None)
    if isinstance(info, typer.models.ArgumentInfo):
        return []
    declared = [*([info.default] if info is not None and isinstance(info.default, str) else []),
                *(getattr(info, "param_decls", None) or ())]
    names = [name for decl in declared for name in str(decl).split("/")
             if name.startswith("-")]
    return names or [f"--{parameter.name.replace('_', '-')}"]
