"""TLS, tokens and roles with real processes: certificates from `coordinator certs create`, a
coordinator, workers and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import partial
from pathlib import Path

from tests.harness import Cluster, Process, assert_eventually, write_dag

DAG = """
from tradewind import DAG, BashOperator

with DAG(dag_id="secure", schedule=None):
    BashOperator(task_id="hello", bash_command="echo hello")
"""

TRIGGERING = """
from tradewind import DAG, BashOperator
from tradewind.operators.trigger_dagrun import TriggerDagRunOperator

with DAG(dag_id="parent", schedule=None):
    TriggerDagRunOperator(task_id="start_child", trigger_dag_id="child", queue="plain")

with DAG(dag_id="parent_tokened", schedule=None):
    TriggerDagRunOperator(task_id="start_child", trigger_dag_id="child", queue="with_token")

with DAG(dag_id="child", schedule=None):
    BashOperator(task_id="work", bash_command="echo child")
"""


def coordinator_command(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coordinator", *args], capture_output=True, text=True, cwd=cwd, timeout=60
    )


def certificates(cluster: Cluster, *clients: str) -> Path:
    folder = cluster.home / "certs"
    extra = [arg for name in clients for arg in ("--client", name)]
    assert coordinator_command("certs", "create", str(folder), *extra, cwd=cluster.home).returncode == 0
    return folder


def tls_coordinator(cluster: Cluster, certs: Path, *extra: str) -> Path:
    """A TLS coordinator with an admin token file; returns that file."""
    admin = cluster.home / "admin.token"
    write_dag(cluster.dags, "secure.py", DAG)
    cluster.coordinator(
        "--tls-cert", str(certs / "server.pem"), "--tls-key", str(certs / "server.key"),
        "--admin-token-file", str(admin), *extra,
    )  # fmt: skip
    return admin


def refused(cluster: Cluster, name: str, *extra: str) -> str:
    """Start a worker that must be refused; returns its output once it has exited (non-zero)."""
    process = cluster.worker(name, *extra)
    code = process.popen.wait(timeout=30)
    assert code != 0, process.output()
    return process.output()


def test_with_tls_and_tokens_only_the_right_credentials_get_in(cluster: Cluster) -> None:
    certs = certificates(cluster)
    admin = tls_coordinator(cluster, certs)
    ca = ("--tls-ca", str(certs / "ca.pem"))

    def cli(token: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return cluster.cli(*ca, "--token-file", str(token), *args, check=check)

    no_ca = cluster.cli("dags", "list", check=False)
    assert no_ca.returncode == 1
    assert no_ca.stderr.strip().splitlines() == [
        f"error: the coordinator at {cluster.address} uses TLS: give the CA that signed its certificate with --tls-ca"
    ]
    no_token = cluster.cli(*ca, "dags", "list", check=False)
    assert no_token.returncode == 1 and "ListDags needs a token" in no_token.stderr

    for name, role in (("w1", "worker"), ("w2", "worker"), ("viewer", "viewer"), ("ops", "operator")):
        cli(admin, "tokens", "create", "--role", role, "--name", name, "--output", str(cluster.home / f"{name}.token"))
    token = {name: ("--tls-ca", str(certs / "ca.pem"), "--token-file", str(cluster.home / f"{name}.token"))
             for name in ("w1", "w2", "viewer", "ops")}  # fmt: skip

    assert "refused worker 'anonymous': Connect needs a token" in refused(cluster, "anonymous", *ca)
    assert "Connect needs the worker role; token 'viewer' has viewer" in refused(cluster, "viewer", *token["viewer"])
    assert "token 'w1' belongs to worker 'w1'; it cannot join as worker 'w2'" in refused(cluster, "w2", *token["w1"])

    denied = cli(cluster.home / "viewer.token", "dags", "trigger", "secure", check=False)
    assert denied.returncode == 1
    assert denied.stderr.strip() == "error: TriggerDag needs the operator role; token 'viewer' has viewer"

    cluster.worker("w1", *token["w1"])
    assert_eventually(lambda: "secure" in cli(cluster.home / "ops.token", "dags", "list").stdout, 30, "DAG parsed")
    run_id = json.loads(cli(cluster.home / "ops.token", "dags", "trigger", "secure", "--json").stdout)["run_id"]

    def succeeded() -> bool:
        runs = json.loads(cli(cluster.home / "viewer.token", "runs", "list", "--json").stdout)
        return any(r["run_id"] == run_id and r["state"] == "success" for r in runs)

    assert_eventually(succeeded, 60, "the run to succeed on the worker holding its own token")
    log = cli(cluster.home / "viewer.token", "tasks", "logs", "secure", run_id, "hello").stdout
    assert "hello" in log

    assert cli(admin, "dags", "trigger", "no_such_dag", check=False).returncode == 1
    audit = json.loads(cli(cluster.home / "viewer.token", "audit", "list", "--json").stdout)
    expected = {"actor": "ops", "rpc": "TriggerDag", "subject": f"dag_id=secure run_id={run_id}"}
    assert expected.items() <= audit[0].items()
    assert [e["subject"] for e in audit if e["rpc"] == "CreateToken"][-1] == "name=w1 role=worker"

    cli(admin, "tokens", "revoke", "ops")
    revoked = cli(cluster.home / "ops.token", "dags", "list", check=False)
    assert revoked.returncode == 1 and "token 'ops' was revoked" in revoked.stderr
    assert secret_nowhere(cluster, (cluster.home / "w1.token").read_text().strip())


def secret_nowhere(cluster: Cluster, secret: str) -> bool:
    """No process printed a token's secret in its log."""
    return all(secret not in process.output() for process in cluster.processes)


def test_mutual_tls_needs_a_client_certificate_signed_by_the_client_ca(cluster: Cluster) -> None:
    certs = certificates(cluster, "alice")
    admin = tls_coordinator(cluster, certs, "--tls-client-ca", str(certs / "ca.pem"))
    base = ("--tls-ca", str(certs / "ca.pem"), "--token-file", str(admin))
    without = cluster.cli(*base, "dags", "list", check=False)
    assert without.returncode == 1
    assert without.stderr.strip() == (
        f"error: the coordinator at {cluster.address} requires a client certificate: give --tls-cert and --tls-key"
    )
    client = ("--tls-cert", str(certs / "alice.pem"), "--tls-key", str(certs / "alice.key"))
    assert cluster.cli(*base, *client, "dags", "list").returncode == 0
    w1 = str(cluster.home / "w1.token")
    cluster.cli(*base, *client, "tokens", "create", "--role", "worker", "--name", "w1", "--output", w1)
    cluster.worker("w1", "--tls-ca", str(certs / "ca.pem"), *client, "--token-file", w1)
    workers = partial(cluster.cli, *base, *client, "workers", "list")
    assert_eventually(lambda: "active" in workers().stdout, 30, "the worker to join with its certificate")
    other = cluster.home / "other"
    assert coordinator_command("certs", "create", str(other), cwd=cluster.home).returncode == 0
    wrong = cluster.cli("--tls-ca", str(other / "ca.pem"), "--token-file", str(admin), "dags", "list", check=False)
    assert wrong.returncode == 1
    assert wrong.stderr.startswith(
        f"error: the coordinator at {cluster.address} presented a certificate the CA given does not accept"
    )


def test_a_coordinator_reachable_from_other_machines_refuses_plaintext_unless_insecure(cluster: Cluster) -> None:
    result = coordinator_command(
        "serve", "--bind", "0.0.0.0:0", "--dags", str(cluster.dags), "--home", str(cluster.home), cwd=cluster.home
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "coordinator: error: 0.0.0.0:0 is reachable from other machines, and without TLS its tokens would cross "
        "the network in clear: give --tls-cert and --tls-key (see `coordinator certs create`), or --insecure"
    ]


def test_on_loopback_tokens_are_required_once_one_exists(cluster: Cluster) -> None:
    write_dag(cluster.dags, "secure.py", DAG)
    made = coordinator_command(
        "tokens", "create", "--role", "viewer", "--name", "v", "--db", cluster.db_url, cwd=cluster.home
    )
    assert made.returncode == 0, made.stderr
    cluster.coordinator()
    assert "needs a token" in cluster.cli("dags", "list", check=False).stderr
    assert cluster.cli("--token", made.stdout.strip(), "dags", "list").returncode == 0
    listed = coordinator_command("tokens", "list", "--db", cluster.db_url, cwd=cluster.home)
    assert listed.stdout.split("\t")[:2] == ["v", "viewer"] and "valid" in listed.stdout
    revoked = coordinator_command("tokens", "revoke", "v", "--db", cluster.db_url, cwd=cluster.home)
    assert revoked.stdout.strip() == "revoked token 'v' (viewer)"


def test_a_path_in_any_id_is_refused_before_it_reaches_the_file_system(cluster: Cluster) -> None:
    import grpc

    from tradewind.v1 import control_pb2, control_pb2_grpc, worker_pb2, worker_pb2_grpc

    write_dag(cluster.dags, "secure.py", DAG)
    cluster.coordinator()
    channel = grpc.insecure_channel(cluster.address)
    control, worker = control_pb2_grpc.ControlServiceStub(channel), worker_pb2_grpc.WorkerServiceStub(channel)
    ids = {"dag_id": "secure", "run_id": "manual__1", "task_id": "hello"}
    for field in ids:
        request = control_pb2.TailLogsRequest(**{**ids, field: "../../../etc/passwd"})
        try:
            list(control.TailLogs(request))
        except grpc.RpcError as exc:
            assert exc.code() is grpc.StatusCode.INVALID_ARGUMENT, exc.details()
            assert field in exc.details()
        else:
            raise AssertionError(f"TailLogs with {field} '../../../etc/passwd' was not refused")
    for bad in ("../" + "a" * 61, "../../tradewind.db"):
        try:
            list(worker.FetchBundle(worker_pb2.FetchBundleRequest(bundle_hash=bad)))
        except grpc.RpcError as exc:
            assert exc.code() is grpc.StatusCode.INVALID_ARGUMENT and "64 lowercase hex" in (exc.details() or "")
        else:
            raise AssertionError(f"FetchBundle {bad!r} was not refused")
    channel.close()


def test_standalone_beyond_loopback_gives_its_own_workers_tokens(cluster: Cluster) -> None:
    import re

    write_dag(cluster.dags, "secure.py", DAG)
    write_dag(cluster.dags, "triggering.py", TRIGGERING.replace('queue="plain"', 'queue="default"'))
    admin = cluster.home / "admin.token"
    args = ["--dags", str(cluster.dags), "--home", str(cluster.home), "--db", cluster.db_url]
    process = cluster._spawn(
        "standalone",
        ["-m", "coordinator", "standalone", "--bind", "0.0.0.0:0", "--insecure", "--admin-token-file", str(admin),
         "--workers", "1", *args],
    )  # fmt: skip
    found = assert_eventually(lambda: re.search(r"listening on 0\.0\.0\.0:(\d+)", process.output()), 30, "listening")
    cluster.address = f"127.0.0.1:{found.group(1)}"
    assert "needs a token" in cluster.cli("dags", "list", check=False).stderr
    auth = ("--token-file", str(admin))
    assert_eventually(lambda: "local-1" in cluster.cli(*auth, "workers", "list").stdout, 30, "local worker joins")
    assert_eventually(lambda: "secure" in cluster.cli(*auth, "dags", "list").stdout, 30, "DAG parsed")
    run_id = json.loads(cluster.cli(*auth, "dags", "trigger", "secure", "--json").stdout)["run_id"]

    def succeeded() -> bool:
        runs = json.loads(cluster.cli(*auth, "runs", "list", "--json").stdout)
        return any(r["run_id"] == run_id and r["state"] == "success" for r in runs)

    assert_eventually(succeeded, 60, "the run to succeed on standalone's own worker")
    assert "local-" not in cluster.cli(*auth, "tokens", "list").stdout
    parent = json.loads(cluster.cli(*auth, "dags", "trigger", "parent", "--json").stdout)["run_id"]

    def children() -> bool:
        runs = json.loads(cluster.cli(*auth, "runs", "list", "--json").stdout)
        states = {(r["dag_id"], r["run_id"]): r["state"] for r in runs}
        return states.get(("parent", parent)) == "success" and any(
            dag_id == "child" and state == "success" for (dag_id, _), state in states.items()
        )

    assert_eventually(children, 60, "a task of standalone's to trigger a DAG with its own task token")


def test_a_revoked_worker_token_ends_its_session_and_the_worker_exits(cluster: Cluster) -> None:
    write_dag(cluster.dags, "secure.py", DAG)
    made = coordinator_command(
        "tokens", "create", "--role", "admin", "--name", "root", "--db", cluster.db_url, cwd=cluster.home
    )
    admin = ("--token", made.stdout.strip())
    cluster.coordinator()
    w1 = str(cluster.home / "w1.token")
    cluster.cli(*admin, "tokens", "create", "--role", "worker", "--name", "w1", "--output", w1)
    worker = cluster.worker("w1", "--token-file", str(cluster.home / "w1.token"))
    assert_eventually(lambda: "active" in cluster.cli(*admin, "workers", "list").stdout, 30, "worker joins")
    cluster.cli(*admin, "tokens", "revoke", "w1")
    assert worker.popen.wait(timeout=30) != 0
    assert "token 'w1' was revoked" in worker.output()


def readme_section_commands() -> list[list[str]]:
    """The shell lines of README.md's "Running on several machines", in order, each split into words."""
    import re
    import shlex

    from tests.harness import ROOT

    text = (ROOT / "README.md").read_text()
    section = text.split("## Running on several machines", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    return [shlex.split(line) for block in blocks for line in block.splitlines() if line.strip()]


def test_the_readme_walkthrough_for_several_machines_works_as_written(cluster: Cluster) -> None:
    """Each command as written, with coordinator.example.com played by localhost on a free port, and
    the worker's and Alice's machines played by folders of their own."""
    import os
    import re
    import shutil
    import signal

    write_dag(cluster.dags, "example_bash.py", DAG.replace('"secure"', '"example_bash"'))
    commands = readme_section_commands()
    assert [c[0] for c in commands] == [
        "coordinator", "coordinator", "export", "tradewind", "tradewind", "tradewind", "worker", "export",
        "tradewind", "tradewind",
    ]  # fmt: skip
    modules = {"coordinator": "coordinator", "tradewind": "tradewind.cli", "worker": "worker"}
    cwd, env, port, exports = cluster.home, {}, "", 0
    worker: subprocess.Popen[bytes] | None = None

    def run(words: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", modules[words[0]], *words[1:]],
            capture_output=True, text=True, cwd=cwd, env={**os.environ, **env}, timeout=60,
        )  # fmt: skip

    def listening(process: Process) -> re.Match[str] | None:
        return re.search(r"listening on 0\.0\.0\.0:(\d+)", process.output())

    def succeeds(words: list[str]) -> bool:
        return run(words).returncode == 0

    def machine(name: str, *files: str) -> Path:
        folder = cluster.home / name
        folder.mkdir()
        for file in files:
            shutil.copy(cluster.home / file, folder)
        return folder

    try:
        for words in commands:
            words = [w.replace("coordinator.example.com:50051", f"localhost:{port}") for w in words]
            words = ["localhost" if w == "coordinator.example.com" else w for w in words]
            if words[0] == "export":
                exports += 1
                if exports == 2:
                    cwd, env = machine("alice-machine", "certs/ca.pem", "alice.token"), {}
                env.update(dict(word.split("=", 1) for word in words[1:]))
            elif words[:2] == ["coordinator", "serve"]:
                words = [w.replace("0.0.0.0:50051", "0.0.0.0:0") for w in words]
                process = cluster._spawn("coordinator", ["-m", "coordinator", *words[1:]])
                found = assert_eventually(partial(listening, process), 30, "the coordinator to listen")
                port = found.group(1)
            elif words[0] == "worker":
                folder = machine("worker-machine", "certs/ca.pem", "w1.token")
                worker = subprocess.Popen(
                    [sys.executable, "-m", "worker", *words[1:]], cwd=folder, start_new_session=True,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
            elif words[1:3] == ["dags", "trigger"]:
                assert_eventually(partial(succeeds, words), 30, "the trigger, once the DAG is parsed")
            else:
                result = run(words)
                assert result.returncode == 0, f"{' '.join(words)}: {result.stderr}"
        assert json.loads(run(["tradewind", "audit", "list", "--json"]).stdout)[0]["actor"] == "alice"

        def succeeded() -> bool:
            return any(r["state"] == "success" for r in json.loads(run(["tradewind", "runs", "list", "--json"]).stdout))

        assert_eventually(succeeded, 60, "alice's run to succeed on worker w1")
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def test_tasks_call_the_coordinator_with_their_workers_task_token_and_fail_without_one(cluster: Cluster) -> None:
    write_dag(cluster.dags, "triggering.py", TRIGGERING)
    made = coordinator_command(
        "tokens", "create", "--role", "admin", "--name", "root", "--db", cluster.db_url, cwd=cluster.home
    )
    admin = ("--token", made.stdout.strip())
    cluster.coordinator()
    for name, role in (("w1", "worker"), ("w2", "worker"), ("tasks", "operator")):
        path = str(cluster.home / f"{name}.token")
        cluster.cli(*admin, "tokens", "create", "--role", role, "--name", name, "--output", path)
    cluster.worker("w1", "--token-file", str(cluster.home / "w1.token"), "--queues", "plain")
    task_token = ("--task-token-file", str(cluster.home / "tasks.token"), "--queues", "with_token")
    cluster.worker("w2", "--token-file", str(cluster.home / "w2.token"), *task_token)
    assert_eventually(lambda: "parent_tokened" in cluster.cli(*admin, "dags", "list").stdout, 30, "DAGs parsed")

    def finished(run_id: str) -> str:
        runs = json.loads(cluster.cli(*admin, "runs", "list", "--json").stdout)
        return next((r["state"] for r in runs if r["run_id"] == run_id and r["state"] in ("success", "failed")), "")

    plain = json.loads(cluster.cli(*admin, "dags", "trigger", "parent", "--json").stdout)
    assert assert_eventually(lambda: finished(plain["run_id"]), 60, "the run without a task token") == "failed"
    shown = cluster.cli(*admin, "tasks", "show", "parent", plain["run_id"], "start_child").stdout
    assert "TriggerDag needs a token" in shown, shown
    tokened = json.loads(cluster.cli(*admin, "dags", "trigger", "parent_tokened", "--json").stdout)
    assert assert_eventually(lambda: finished(tokened["run_id"]), 60, "the run with a task token") == "success"
    audit = json.loads(cluster.cli(*admin, "audit", "list", "--json").stdout)
    assert any(e["actor"] == "tasks" and e["subject"].startswith("dag_id=child") for e in audit)
