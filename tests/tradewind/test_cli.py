from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tradewind.cli import main


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_coordinator_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert main(["--host", f"127.0.0.1:{port}", "dags", "list"]) == 1
    err = capsys.readouterr().err
    assert err == f"error: cannot reach the coordinator at 127.0.0.1:{port} (is `coordinator serve` running?)\n"


def test_invalid_conf_is_a_usage_error_before_anything_is_sent(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--host", f"127.0.0.1:{free_port()}", "dags", "trigger", "d", "--conf", "[1, 2"]) == 2
    assert capsys.readouterr().err.startswith("error: --conf is not valid JSON:")
    assert main(["--host", f"127.0.0.1:{free_port()}", "dags", "trigger", "d", "--conf", "[1]"]) == 2
    assert "must be a JSON object, not list" in capsys.readouterr().err


def test_a_malformed_host_is_a_config_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--host", "nowhere", "runs", "list"]) == 1
    assert capsys.readouterr().err == "error: host must be HOST:PORT, not 'nowhere'\n"


def test_a_bad_flag_exits_2_with_usage() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tradewind.cli", "dags", "list", "--bogus"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "unrecognized arguments: --bogus" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["coordinator", "serve", "--bind", "localhost"],
            "coordinator: error: bind must be HOST:PORT, not 'localhost'",
        ),
        (
            ["coordinator", "serve", "--db", "mysql://x"],
            "coordinator: error: db must be a sqlite:/// or postgresql:// URL",
        ),
        (["worker", "join", "--slots", "0"], "worker: error: worker slots must be at least 1, not 0"),
    ],
)
def test_coordinator_and_worker_reject_bad_settings_in_one_line(argv: list[str], message: str) -> None:
    result = subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().startswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_a_deeply_nested_conf_is_one_line_and_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    deep = "{" + '"a":[' * 5000 + "]" * 5000 + "}"
    assert main(["--host", f"127.0.0.1:{free_port()}", "dags", "trigger", "d", "--conf", deep]) == 2
    assert capsys.readouterr().err == "error: --conf is nested 5001 levels deep; the limit is 100\n"
    assert main(["--host", f"127.0.0.1:{free_port()}", "dags", "trigger", "d", "--conf", '{"n": NaN}']) == 2
    assert capsys.readouterr().err == "error: --conf is not valid JSON: NaN is not allowed\n"


def test_an_unforeseen_error_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: object, *args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("tradewind.client.Client.list_dags", broken)
    assert main(["--host", f"127.0.0.1:{free_port()}", "dags", "list"]) == 1
    assert capsys.readouterr().err == "error: RecursionError: maximum recursion depth exceeded\n"


def test_task_commands_take_a_map_index() -> None:
    from tradewind.cli import _parser

    for action in ("show", "logs", "mark", "why"):
        extra = ["success"] if action == "mark" else []
        args = _parser().parse_args(["tasks", action, "d", "r", "t", *extra, "--map-index", "3"])
        assert args.map_index == 3
        assert _parser().parse_args(["tasks", action, "d", "r", "t", *extra]).map_index == -1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["connections", "add", "db"], "error: give --uri or --conn-type\n"),
        (
            ["connections", "add", "db", "--uri", "postgres://h/d", "--conn-type", "postgres"],
            "error: give either --uri or --conn-type with its fields, not both\n",
        ),
        (
            ["connections", "add", "db", "--uri", "no-scheme"],
            "error: connection 'db': 'no-scheme' is not a connection URI\n",
        ),
        (
            ["connections", "add", "db", "--conn-type", "postgres", "--conn-extra", "[1]"],
            "error: connection 'db': extra must be a JSON object, not '[1]'\n",
        ),
    ],
)
def test_a_bad_connection_is_a_usage_error_before_anything_is_sent(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--host", f"127.0.0.1:{free_port()}", *argv]) == 2
    assert capsys.readouterr().err == message


def test_variables_import_refuses_a_file_that_is_not_a_json_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "vars.json"
    source.write_text("[1, 2]")
    assert main(["--host", f"127.0.0.1:{free_port()}", "variables", "import", str(source)]) == 2
    assert capsys.readouterr().err == f"error: {source}: must hold a JSON object of key to value\n"
