"""`responder search`: maintain the search index."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from responder.db import get_session

search_cli = click.Group("search", help="Maintain the search index.")


@search_cli.command("rebuild")
@with_appcontext
def search_rebuild() -> None:
    """Rebuild the search index from every live plan (after a bulk load)."""
    from plans import operations

    session = get_session()
    count = operations.rebuild_search_index(session)
    session.commit()
    click.echo(f"search index rebuilt: {count} live plans")


def register(app: Flask) -> None:
    """Add this module's commands to the app's CLI."""
    app.cli.add_command(search_cli)
