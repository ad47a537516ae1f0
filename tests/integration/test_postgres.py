"""The end-to-end flow on a PostgreSQL metastore."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import failed
from tests.harness import Cluster, cluster_in, write_dag
from tests.integration.test_end_to_end import CHAIN_WITH_FAILURE, finished_run, tis, trigger
from tests.pg import fresh_database


@pytest.fixture
def pg_cluster(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    with fresh_database() as url:
        yield from cluster_in(tmp_path, lambda: failed(request), db_url=url)


def test_chain_with_retries_runs_on_postgresql(pg_cluster: Cluster) -> None:
    write_dag(pg_cluster.dags, "flaky.py", CHAIN_WITH_FAILURE)
    pg_cluster.coordinator()
    pg_cluster.worker("w1")
    run_id = trigger(pg_cluster, "flaky_chain")
    assert finished_run(pg_cluster, "flaky_chain", run_id)["state"] == "failed"
    states = tis(pg_cluster, "flaky_chain", run_id)
    assert [states[t]["state"] for t in ("first", "middle", "last")] == ["success", "failed", "upstream_failed"]
    assert states["middle"]["try_number"] == 3
