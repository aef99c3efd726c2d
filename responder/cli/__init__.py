"""The `responder` command: the root group here, one module per noun beside it.

Each module holds one noun's commands (`users.py` holds `responder users ...`) and
a `register(app)` that adds them to the app's CLI; `init_app` calls every one.
"""

from __future__ import annotations

import os

import click
from flask import Flask
from flask.cli import FlaskGroup


def _create_app() -> Flask:
    from responder import create_app

    return create_app()


def refusal(error: Exception) -> str:
    """Say, in one paragraph, why the app refused to start and how to fix it."""
    from responder import instance_folder

    return (
        f"Responder did not start. {error}\n"
        "Set each of these in the environment (RESPONDER_<KEY>) or in "
        f"{os.path.join(instance_folder(), 'config.py')}. On a developer's machine, "
        '`make run` writes ENVIRONMENT = "development" there once; or set '
        "RESPONDER_ENVIRONMENT=development."
    )


class ResponderGroup(FlaskGroup):
    """Flask's group, answering unsafe settings with a paragraph, not a traceback."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        from responder import ConfigurationError

        try:
            return super().get_command(ctx, name)
        except ConfigurationError as error:
            raise click.ClickException(refusal(error)) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        from flask.cli import ScriptInfo

        from responder import ConfigurationError

        try:
            ctx.ensure_object(ScriptInfo).load_app()
        except ConfigurationError as error:
            click.echo(refusal(error) + "\n", err=True)
            return sorted(click.Group.list_commands(self, ctx))
        return super().list_commands(ctx)


@click.group(cls=ResponderGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Manage a Responder deployment."""


def init_app(app: Flask) -> None:
    """Register every command group on the app's CLI, one module per noun."""
    from responder.cli import (
        cards,
        cases,
        chat,
        database,
        exchange,
        nrl,
        ops,
        portal,
        privacy,
        reviews,
        search,
        serve,
        sessions,
        tokens,
        users,
    )

    for module in (
        database,
        users,
        tokens,
        sessions,
        search,
        serve,
        exchange,
        cards,
        cases,
        chat,
        ops,
        portal,
        privacy,
        reviews,
        nrl,
    ):
        module.register(app)
