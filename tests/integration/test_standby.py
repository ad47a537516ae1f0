"""One coordinator per metastore: a second one is refused, or waits as a standby and takes over."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import failed
from tests.harness import Cluster, assert_eventually, cluster_in, write_dag
from tests.pg import fresh_database
from tradewind.client import Client
from tradewind.exceptions import Unavailable
from tradewind.wire import run_state_from_pb

CHAIN = """
from tradewind import DAG, BashOperator

with DAG("chain", schedule=None):
    first = BashOperator(task_id="first", bash_command="sleep 1")
    second = BashOperator(task_id="second", bash_command="sleep 1")
    third = BashOperator(task_id="third", bash_command="sleep 1")
    first >> second >> third
"""
TAKEOVER_LIMIT = 5.0


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_cluster(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """A cluster whose coordinators all use one metastore: a SQLite file or a PostgreSQL database."""
    if request.param == "sqlite":
        yield from cluster_in(tmp_path, lambda: failed(request))
    else:
        with fresh_database() as url:
            yield from cluster_in(tmp_path, lambda: failed(request), db_url=url)


def test_a_second_coordinator_on_an_owned_metastore_is_refused_with_one_line_naming_the_owner(
    shared_cluster: Cluster,
) -> None:
    cluster = shared_cluster
    owner = cluster.coordinator()
    second = _serve(cluster, "--bind", "127.0.0.1:0")
    assert second.returncode == 1
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert lines[0].startswith("coordinator: error: metastore ")
    assert f"pid {owner.pid}" in lines[0] and socket.gethostname() in lines[0]
    assert cluster.address in lines[0]
    assert "--standby" in lines[0]


def test_a_standby_takes_over_within_5s_of_the_owners_sigkill_and_every_run_finishes(
    shared_cluster: Cluster,
) -> None:
    cluster = shared_cluster
    write_dag(cluster.dags, "chain.py", CHAIN)
    owner = cluster.coordinator()
    owner_address = cluster.address
    standby_address = f"127.0.0.1:{_free_port()}"
    standby = cluster.coordinator("--standby", port=int(standby_address.rsplit(":", 1)[1]), wait=False)
    assert_eventually(lambda: "waiting to take over" in standby.output(), 30, "the standby to wait")
    hosts = f"{owner_address},{standby_address}"
    cluster.address = hosts
    cluster.worker("w1", "--slots", "4")
    with Client(hosts) as client:
        assert_eventually(lambda: client.list_dags().dags, 30, "the DAG to be parsed")
        runs = [client.trigger_dag("chain").dag_run.run_id for _ in range(3)]
        assert_eventually(
            lambda: any(w.running for w in client.list_workers().workers), 30, "a task to run on the worker"
        )

        owner.kill(signal.SIGKILL)
        died = time.monotonic()
        serving_after = assert_eventually(lambda: _serving(standby_address, died), 30, "the standby to serve")
        print(f"standby takeover: {serving_after:.2f}s from the owner's SIGKILL to serving")
        assert serving_after < TAKEOVER_LIMIT, standby.output()
        assert re.search(rf"coordinator listening on {re.escape(standby_address)}", standby.output())

        def states() -> dict[str, str]:
            found = {r.run_id: r for r in client.list_dag_runs("chain").dag_runs}
            return {run_id: run_state_from_pb(found[run_id].state).value for run_id in runs}

        assert_eventually(lambda: set(states().values()) == {"success"}, 60, "every run to succeed on the standby")
        assert client.address == standby_address


def _serving(address: str, since: float) -> float | None:
    try:
        with Client(address, connect_timeout=0.2, timeout=2) as client:
            client.list_dags()
    except Unavailable:
        return None
    return time.monotonic() - since


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(cluster: Cluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coordinator", "serve", "--dags", str(cluster.dags), "--home", str(cluster.home)]
        + ["--db", cluster.db_url, *args],
        capture_output=True,
        text=True,
        cwd=cluster.home,
        timeout=60,
    )


@pytest.mark.postgres
def test_an_owner_that_loses_its_postgresql_lease_stops_with_one_line(tmp_path: Path) -> None:
    with fresh_database() as url:
        for cluster in cluster_in(tmp_path, lambda: False, db_url=url):
            owner = cluster.coordinator()
            admin = pytest.importorskip("psycopg2").connect(url)
            admin.autocommit = True
            with admin.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'tradewind coordinator lease' AND datname = current_database()"
                )
                assert cursor.fetchone() == (True,)
            admin.close()
            assert owner.popen.wait(timeout=30) == 1
            error = [line for line in owner.output().splitlines() if line.startswith("coordinator: error:")]
            assert len(error) == 1 and "lost the lease of metastore" in error[0], owner.output()
