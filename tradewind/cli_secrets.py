"""`tradewind connections ...` and `tradewind variables ...`, as Airflow's commands.

Lists never show a password or a sensitive variable's value; `connections get --reveal` and
`variables get` show what is stored. `variables import` and `export` read and write Airflow's
JSON file: an object of key to value (a value that is not a string is stored as its JSON text).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradewind.cli import UsageError, print_json, table
from tradewind.connections import Connection, to_pb
from tradewind.exceptions import NotFound, TradewindError

if TYPE_CHECKING:
    from tradewind.client import Client


def _from_flags(args: argparse.Namespace) -> Connection:
    if args.uri and args.conn_type:
        raise UsageError("give either --uri or --conn-type with its fields, not both")
    if not args.uri and not args.conn_type:
        raise UsageError("give --uri or --conn-type")
    try:
        if args.uri:
            connection = Connection.parse(args.conn_id, args.uri)
            connection.description = args.description or ""
            return connection
        return Connection(
            conn_id=args.conn_id,
            conn_type=args.conn_type,
            description=args.description,
            host=args.host_name,
            login=args.login,
            password=args.password,
            schema=args.schema,
            port=args.port,
            extra=args.extra,
        )
    except TradewindError as exc:
        raise UsageError(str(exc)) from None


def cmd_connections_list(client: Client, args: argparse.Namespace) -> None:
    connections = client.list_connections().connections
    if args.json:
        return print_json(connections)
    print(
        table(
            ["CONN ID", "TYPE", "HOST", "PORT", "SCHEMA", "LOGIN", "PASSWORD"],
            [(c.conn_id, c.conn_type, c.host, c.port or "", c.schema, c.login, c.password) for c in connections],
        )
    )


def cmd_connections_get(client: Client, args: argparse.Namespace) -> None:
    connection = client.get_connection(args.conn_id, reveal=args.reveal).connection
    if args.json:
        return print_json(connection)
    for name in ("conn_id", "conn_type", "host", "port", "schema", "login", "password", "extra", "description"):
        print(f"{name}: {getattr(connection, name) or ''}")


def cmd_connections_add(client: Client, args: argparse.Namespace) -> None:
    client.set_connection(to_pb(_from_flags(args)))
    print(f"connection {args.conn_id} stored")


def cmd_connections_delete(client: Client, args: argparse.Namespace) -> None:
    client.delete_connection(args.conn_id)
    print(f"deleted connection {args.conn_id}")


def cmd_connections_test(client: Client, args: argparse.Namespace) -> None:
    if args.uri:
        try:
            connection = Connection.parse(args.conn_id, args.uri)
        except TradewindError as exc:
            raise UsageError(str(exc)) from None
        answer = client.test_connection(connection=to_pb(connection))
    else:
        answer = client.test_connection(conn_id=args.conn_id)
    if not answer.ok:
        raise TradewindError(f"connection {args.conn_id} failed: {answer.message}")
    print(f"connection {args.conn_id}: {answer.message}")


def cmd_variables_list(client: Client, args: argparse.Namespace) -> None:
    variables = client.list_variables().variables
    if args.json:
        return print_json(variables)
    print(table(["KEY", "VALUE", "DESCRIPTION"], [(v.key, v.value, v.description) for v in variables]))


def cmd_variables_get(client: Client, args: argparse.Namespace) -> None:
    try:
        value = client.get_variable(args.key).variable.value
    except NotFound:
        if args.default is None:
            raise
        value = args.default
    print(json.dumps(json.loads(value), indent=2) if args.json else value)


def cmd_variables_set(client: Client, args: argparse.Namespace) -> None:
    client.set_variable(args.key, args.value, args.description or "")
    print(f"variable {args.key} stored")


def cmd_variables_delete(client: Client, args: argparse.Namespace) -> None:
    client.delete_variable(args.key)
    print(f"deleted variable {args.key}")


def cmd_variables_import(client: Client, args: argparse.Namespace) -> None:
    try:
        data = json.loads(Path(args.file).read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"{args.file}: cannot read a JSON object of variables: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{args.file}: must hold a JSON object of key to value")
    for key, value in data.items():
        description = ""
        if isinstance(value, dict) and set(value) <= {"value", "description"} and "value" in value:
            value, description = value["value"], value.get("description") or ""
        client.set_variable(key, value if isinstance(value, str) else json.dumps(value), description)
    print(f"{len(data)} variables imported from {args.file}")


def cmd_variables_export(client: Client, args: argparse.Namespace) -> None:
    keys = [v.key for v in client.list_variables().variables]
    data: dict[str, Any] = {key: client.get_variable(key).variable.value for key in keys}
    Path(args.file).write_text(json.dumps(data, indent=4, sort_keys=True) + "\n")
    print(f"{len(data)} variables exported to {args.file}")


def add_parsers(groups: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    """The `connections` and `variables` command groups."""
    connections = groups.add_parser("connections", help="connections hooks use").add_subparsers(
        dest="command", required=True, metavar="ACTION"
    )
    command(connections, "list", cmd_connections_list, "every stored connection, passwords hidden", True)
    getter = command(connections, "get", cmd_connections_get, "one connection", True)
    getter.add_argument("conn_id")
    getter.add_argument("--reveal", action="store_true", help="show the password and extra")
    adder = command(connections, "add", cmd_connections_add, "create or replace a connection")
    adder.add_argument("conn_id")
    adder.add_argument("--uri", help="the connection as a URI: postgresql://user:pass@host:5432/db")
    adder.add_argument("--conn-type", help="sqlite, postgres, generic, ...")
    adder.add_argument("--conn-host", dest="host_name", metavar="HOST", help="the host (a file for sqlite)")
    adder.add_argument("--conn-login", dest="login", metavar="LOGIN")
    adder.add_argument("--conn-password", dest="password", metavar="PASSWORD")
    adder.add_argument("--conn-schema", dest="schema", metavar="SCHEMA", help="the database")
    adder.add_argument("--conn-port", dest="port", type=int, metavar="PORT")
    adder.add_argument("--conn-extra", dest="extra", metavar="JSON", help="extra fields, a JSON object")
    adder.add_argument("--conn-description", dest="description", metavar="TEXT")
    command(connections, "delete", cmd_connections_delete, "delete a connection").add_argument("conn_id")
    tester = command(connections, "test", cmd_connections_test, "open a connection and run SELECT 1")
    tester.add_argument("conn_id")
    tester.add_argument("--uri", help="test this URI instead of the stored connection")

    variables = groups.add_parser("variables", help="variables tasks read").add_subparsers(
        dest="command", required=True, metavar="ACTION"
    )
    command(variables, "list", cmd_variables_list, "every variable, sensitive values hidden", True)
    getter = command(variables, "get", cmd_variables_get, "one variable's value")
    getter.add_argument("key")
    getter.add_argument("--default", "-d", help="print this when there is no such variable")
    getter.add_argument("--json", "-j", action="store_true", help="parse the value as JSON and print it")
    setter = command(variables, "set", cmd_variables_set, "create or replace a variable")
    setter.add_argument("key")
    setter.add_argument("value")
    setter.add_argument("--description", metavar="TEXT")
    command(variables, "delete", cmd_variables_delete, "delete a variable").add_argument("key")
    command(variables, "import", cmd_variables_import, "set variables from a JSON file").add_argument("file")
    command(variables, "export", cmd_variables_export, "write every variable to a JSON file").add_argument("file")
