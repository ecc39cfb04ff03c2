"""`tandem`: serve, migrate, and manage organizations, users and tokens.

Every command accepts `--json` (one JSON object on stdout). Errors go to stderr with exit
status 1 and a message naming what is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import orjson

from server import cli_commands as commands
from server import cli_members, cli_org
from server.errors import AppError
from server.settings import Settings, SettingsError
from server.storage.base import ROLES
from server.storage.organization import MULTI_TEAM_DELIVERY

Handler = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, dict[str, Any]]]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tandem", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Handler, help_text: str, parent: Any = sub) -> Any:
        p = parent.add_parser(name, help=help_text)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(handler=handler)
        return p

    serve = sub.add_parser("serve", help="run the web process (HTTP API and websockets)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--json", action="store_true", help="print the start-up facts as JSON")
    command("migrate", commands.migrate, "apply pending schema migrations")
    command("worker", commands.worker, "run the sync workers (none yet: waits)")

    org = sub.add_parser("org", help="organizations").add_subparsers(dest="org", required=True)
    command("create", commands.org_create, "create an organization", org).add_argument("name")
    command("list", commands.org_list, "list organizations", org)
    org_set = command("set", cli_org.org_set, "change an organization's settings", org)
    org_set.add_argument("org", help="the organization's name")
    org_set.add_argument(
        "--multi-team-delivery",
        choices=MULTI_TEAM_DELIVERY,
        help="mail to several teams: a copy per team inbox (duplicate, the default)"
        " or one conversation in the alphabetically-first team (single)",
    )
    org_set.add_argument("--name", help="rename the organization")

    user = sub.add_parser("user", help="users").add_subparsers(dest="user", required=True)
    create = command("create", cli_members.user_create, "create a user in an organization", user)
    create.add_argument("email")
    create.add_argument("--org", required=True)
    create.add_argument("--name")
    create.add_argument("--password", help="generated and printed when omitted")
    create.add_argument("--role", choices=ROLES, default="member")
    password = command("set-password", commands.user_set_password, "set a password", user)
    password.add_argument("email")
    password.add_argument("--password", help="generated and printed when omitted")
    join = command("add-to-org", cli_members.user_add_to_org, "add a user to an organization", user)
    join.add_argument("email")
    join.add_argument("--org", required=True)
    join.add_argument("--role", choices=ROLES, default="member")
    command("list", cli_members.user_list, "list an organization's members", user).add_argument(
        "org"
    )
    role = command("role", cli_members.user_role, "change a member's role", user)
    role.add_argument("org")
    role.add_argument("email")
    role.add_argument("role", choices=ROLES)
    handle = command("handle", cli_members.user_handle, "set a member's @handle", user)
    handle.add_argument("org")
    handle.add_argument("email")
    handle.add_argument("handle", nargs="?", help="omit to go back to the email's local part")
    remove = command(
        "remove", cli_members.user_remove, "remove a member from an organization", user
    )
    remove.add_argument("org")
    remove.add_argument("email")

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="token", required=True)
    new = command("create", commands.token_create, "print a new bearer token for a user", token)
    new.add_argument("email")
    new.add_argument("--label", default="cli")
    team = sub.add_parser("team", help="teams").add_subparsers(dest="team", required=True)
    new_team = command("create", cli_org.team_create, "create a team", team)
    new_team.add_argument("org")
    new_team.add_argument("name")
    new_team.add_argument("--active", help="comma-separated emails of active members")
    new_team.add_argument("--observers", help="comma-separated emails of observers")
    new_team.add_argument("--no-inbox", action="store_true", help="a team without a team inbox")

    label = sub.add_parser("label", help="labels").add_subparsers(dest="label", required=True)
    new_label = command("create", cli_org.label_create, "create an organization label", label)
    new_label.add_argument("org")
    new_label.add_argument("path", help="nested with slashes: Billing/Refunds")
    new_label.add_argument("--share-with", help="comma-separated emails given access")
    command("reindex", cli_org.reindex, "rebuild mailbox index rows from the documents")

    account = sub.add_parser("account", help="connected accounts").add_subparsers(
        dest="account", required=True
    )
    new_account = command("create", cli_org.account_create, "connect an email address", account)
    new_account.add_argument("org")
    new_account.add_argument("address")
    new_account.add_argument("--owner", required=True, help="email of the owning user")
    new_account.add_argument(
        "--share-with", action="append", help="team:NAME or user:EMAIL (repeatable)"
    )
    new_account.add_argument("--delivery", choices=("inbox", "team_inbox"), default="inbox")
    new_account.add_argument("--smtp-host", help="the account's outgoing server")
    new_account.add_argument("--smtp-port", type=int, default=587)
    new_account.add_argument(
        "--smtp-security", choices=("none", "starttls", "tls"), default="starttls",
        help="none only for a loopback server",
    )  # fmt: skip
    new_account.add_argument("--smtp-username")
    new_account.add_argument("--smtp-password", help="sealed with the server's secret key")

    mail = command("import", cli_org.import_mail, "import .eml and mbox files for an account")
    mail.add_argument("address")
    mail.add_argument("files", nargs="+")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"tandem: {exc}", file=sys.stderr)
        return 1
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "serve":
            return commands.serve(settings, args)
        result = asyncio.run(args.handler(settings, args))
    except (AppError, commands.CommandError) as exc:
        print(f"tandem: {exc}", file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
    else:
        print(result.pop("message", "") or _plain(result))
    return 0


def _plain(result: dict[str, Any]) -> str:
    return "\n".join(f"{key}: {value}" for key, value in result.items())


if __name__ == "__main__":
    raise SystemExit(main())
