"""The one table of who may do what, checked on every channel it is wired to.

Generated from plans.rules.TABLE: every route, CLI command and chat command must
name its action; every view's declared audience must be the table's; and every
role (anonymous included) is tried on the web, the API and the chats, and must
be let in exactly where the table says.
"""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bots import commands, replies
from bots.commands import ChatSettings
from plans import accounts, chat, rules
from plans.vocabulary import (
    ANONYMOUS,
    AUDIENCES,
    AUDIT_ACTIONS,
    CHAT_CHANNELS,
    ROLES,
)
from responder.access import COMMAND_RULES, ENDPOINT_RULES
from tests.security.test_authorisation import (
    FRAMEWORK_ENDPOINTS,
    TOKEN_RULE,
    access_rule,
)

ROOT = Path(__file__).resolve().parents[2]


def test_every_action_and_channel_in_the_table_is_known() -> None:
    assert set(rules.TABLE) == set(rules.ACTIONS)
    for by_channel in rules.TABLE.values():
        for parties in by_channel.values():
            assert parties <= set(rules.PARTIES)


def test_every_route_names_its_action_in_the_table(app: Flask) -> None:
    endpoints = set(app.view_functions) - FRAMEWORK_ENDPOINTS
    assert sorted(endpoints - set(ENDPOINT_RULES)) == [], "add them to ENDPOINT_RULES"
    assert sorted(set(ENDPOINT_RULES) - endpoints) == [], "stale ENDPOINT_RULES"
    for endpoint, (channel, action) in ENDPOINT_RULES.items():
        assert rules.parties_for(action, channel), (endpoint, channel, action)


def test_every_view_declares_the_audience_the_table_gives(app: Flask) -> None:
    wrong = {}
    for endpoint, (channel, action) in ENDPOINT_RULES.items():
        declared = access_rule(app.view_functions[endpoint])
        parties = rules.parties_for(action, channel)
        roles = tuple(sorted(set(parties) & set(ROLES)))
        if declared == "public":
            ok = ANONYMOUS in parties
        elif declared == TOKEN_RULE:
            # The bearer token names the account; the domain checks its role.
            ok = channel == "api" and ANONYMOUS not in parties
        else:
            ok = declared == roles and ANONYMOUS not in parties
        if not ok:
            wrong[endpoint] = (declared, sorted(parties))
    assert wrong == {}


def test_a_new_route_outside_the_table_fails(app: Flask) -> None:
    app.add_url_rule("/forgotten", "forgotten", lambda: "personal data")
    assert "forgotten" not in ENDPOINT_RULES
    assert set(app.view_functions) - FRAMEWORK_ENDPOINTS - set(ENDPOINT_RULES) == {
        "forgotten"
    }


def cli_commands(app: Flask) -> set[str]:
    """Name every command of the app's CLI, groups spelt out ("tokens revoke")."""
    context = click.Context(app.cli)
    found: set[str] = set()

    def walk(group: click.Group, prefix: str) -> None:
        for name in group.list_commands(context):
            command = group.get_command(context, name)
            path = f"{prefix} {name}".strip()
            if isinstance(command, click.Group):
                walk(command, path)
            elif command is not None:
                found.add(path)

    with app.app_context():
        walk(app.cli, "")
    return found


def test_every_cli_command_names_its_action_in_the_table(app: Flask) -> None:
    commands_here = cli_commands(app)
    assert sorted(commands_here - set(COMMAND_RULES)) == [], "add to COMMAND_RULES"
    assert sorted(set(COMMAND_RULES) - commands_here) == [], "stale COMMAND_RULES"
    for name, action in COMMAND_RULES.items():
        assert rules.allowed(rules.OPERATOR, "cli", action), name


def chat_command_words() -> set[str]:
    """Read every command word bots/commands.py and bots/telegram.py act on."""
    words: set[str] = set()
    source = (ROOT / "bots" / "commands.py").read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name):
            if node.left.id != "command":
                continue
            for right in node.comparators:
                for constant in ast.walk(right):
                    if isinstance(constant, ast.Constant) and isinstance(
                        constant.value, str
                    ):
                        words.add(constant.value)
    telegram = (ROOT / "bots" / "telegram.py").read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(telegram)):
        # for name, callback in (("start", start), ...): add CommandHandler(name...)
        if isinstance(node, ast.For) and "CommandHandler" in ast.dump(node):
            for pair in ast.walk(node.iter):
                if isinstance(pair, ast.Tuple) and pair.elts:
                    first = pair.elts[0]
                    if isinstance(first, ast.Constant):
                        words.add(str(first.value))
    assert {"find", "help"} <= words  # the reader still understands both files
    return words


def test_every_chat_command_names_its_action_in_the_table() -> None:
    mapped = (
        set(commands.STAFF_COMMANDS)
        | set(commands.ACCOUNT_COMMANDS)
        | set(commands.PERSON_COMMANDS)
    )
    assert sorted(chat_command_words() - mapped) == []
    for table in (commands.STAFF_COMMANDS, commands.ACCOUNT_COMMANDS):
        for action in table.values():
            for channel in CHAT_CHANNELS:
                assert rules.parties_for(action, channel)


SETTINGS = ChatSettings(public_base_url="https://responder.example")


@pytest.mark.parametrize("channel", CHAT_CHANNELS)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_the_chat_commands_the_table_gives(
    session: Session, role: str, channel: str
) -> None:
    user = accounts.create_user(session, f"{role}@example.test", role=role)
    address = "+447700900123" if channel != "telegram" else "777"
    chat._bind(
        session,
        channel=channel,
        address=address,
        user_id=user.id,
        person_id=None,
        now=chat.utcnow(),
    )
    wrong = {}
    for word, action in commands.STAFF_COMMANDS.items():
        reply = commands.handle_text(
            session,
            channel=channel,
            address=address,
            text=f"{word} 1",
            settings=SETTINGS,
        )
        assert reply is not None
        refused = reply.text == replies.NOT_FOR_YOU
        if refused == rules.allowed(role, channel, action):  # type: ignore[arg-type]
            wrong[word] = reply.text
    assert wrong == {}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_the_api_the_table_gives(
    client: FlaskClient, db: Session, role: str
) -> None:
    user = accounts.create_user(db, f"{role}@example.test", role=role)
    _row, token = accounts.create_token(db, user)
    db.commit()
    headers = {"Authorization": f"Bearer {token}"}
    for endpoint, (channel, action) in ENDPOINT_RULES.items():
        if channel != "api" or action == "read_public":
            continue
        rule = next(r for r in client.application.url_map.iter_rules(endpoint))
        response = client.get(rule.rule + "?q=smith", headers=headers)
        if not rules.allowed(role, "api", action):
            assert response.status_code == 403, (endpoint, role)
        elif rule.arguments:
            # A placeholder for the path's ref: allowed in, and the thing is
            # not found (never refused).
            assert response.status_code == 404, (endpoint, role)
        else:
            assert response.status_code == 200, (endpoint, role)


@pytest.mark.parametrize("audience", AUDIENCES)
def test_the_table_names_every_audience(audience: str) -> None:
    # Each audience can do something somewhere, or it should not be in the table.
    assert any(
        audience in parties for c in rules.TABLE.values() for parties in c.values()
    )


def audit_actions_written_in(package: str) -> set[str]:
    """Collect every literal `action=` given to audit.record* under a package."""
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name not in {"record", "record_for", "_audit", "record_sign_in_event"}:
                continue
            values = [k.value for k in node.keywords if k.arg == "action"]
            values += [a for a in node.args if isinstance(a, ast.Constant)]
            for value in values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.add(value.value)
    return found


def test_every_audit_action_written_is_in_the_vocabulary() -> None:
    written = set()
    for package in ("plans", "responder", "bots"):
        written |= audit_actions_written_in(package)
    assert sorted(written - set(AUDIT_ACTIONS)) == []


def test_no_view_handler_or_command_writes_an_audit_row() -> None:
    offenders = []
    for package in ("responder", "bots"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "audit.record" in text:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


PORTAL_EXPECTED = {
    # action: roles allowed on the web (issue 18)
    "read_demand": {"mentor", "lead_clinician", "team_lead"},
    "enter_demand": {"mentor", "lead_clinician"},
    "build_reports": {"mentor", "lead_clinician"},
    "read_network": {"mentor", "lead_clinician", "team_lead", "network"},
    "assess_team": {"mentor", "lead_clinician", "team_lead"},
}


@pytest.mark.parametrize("action", sorted(PORTAL_EXPECTED))
def test_the_portal_rows_of_the_table(action: str) -> None:
    web = set(rules.parties_for(action, "web"))  # type: ignore[arg-type]
    assert web == PORTAL_EXPECTED[action]
    # Responders never see demand data, on any channel.
    for channel in ("web", "api", "cli", "card", *CHAT_CHANNELS):
        parties = rules.parties_for(action, channel)  # type: ignore[arg-type]
        assert not parties & {
            "police",
            "ambulance",
            "emergency_department",
            "control_room",
            ANONYMOUS,
        }


def test_the_new_roles_reach_nothing_beyond_the_portal_and_their_account() -> None:
    for role in ("team_lead", "network"):
        reached = {
            action
            for action, by_channel in rules.TABLE.items()
            if any(role in parties for parties in by_channel.values())
        }
        assert reached <= {
            "read_public",
            "sign_in",
            "use_own_account",
            "manage_tokens",
            "scan_card",  # anyone may scan; the card decides what a scan shows
            *PORTAL_EXPECTED,
        }
