from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tradewind import DAG, BashOperator, Param, PythonOperator, dag, task
from tradewind.exceptions import DagDefinitionError
from tradewind.params import DagParam, conf_error
from tradewind.serialization import serialize_dag
from tradewind.templates import build_context, render


def context(params: dict[str, Any], conf: dict[str, Any] | None = None) -> dict[str, Any]:
    moment = datetime(2026, 1, 1)
    return build_context(
        dag_id="d",
        task_id="t",
        run_id="r",
        logical_date=moment,
        data_interval_start=moment,
        data_interval_end=moment,
        params=params,
        conf=conf or {},
        try_number=1,
        run_type="manual",
    )


def test_param_checks_its_json_schema_as_airflow_does() -> None:
    assert Param(5, type="integer", minimum=1, maximum=10).resolve() == 5
    assert Param("b", enum=["a", "b"]).resolve() == "b"
    assert Param("2026-11-25", type="string", format="date").resolve() == "2026-11-25"
    with pytest.raises(ValueError, match="11 is greater than the maximum of 10"):
        Param(5, type="integer", maximum=10).resolve(11)
    with pytest.raises(ValueError, match="'c' is not one of \\['a', 'b'\\]"):
        Param("a", enum=["a", "b"]).resolve("c")
    with pytest.raises(ValueError, match="'25/11/2026' is not a 'date'"):
        Param(type="string", format="date").resolve("25/11/2026")
    assert Param("2026-11-25T06:30:00Z", format="date-time").resolve() == "2026-11-25T06:30:00Z"
    for bad in ("2026-11-25", "2026-13-01T00:00:00Z", "tomorrow at noon", "2026-11-25T06:30:00"):
        with pytest.raises(ValueError, match="is not a 'date-time'"):
            Param(format="date-time").resolve(bad)
    with pytest.raises(ValueError, match="no value was given and the param has no default"):
        Param(type="string").resolve()


def test_dag_params_keep_values_and_schemas_apart_and_serialize_both() -> None:
    with DAG("p", params={"n": Param(3, type="integer", minimum=1), "plain": "x", "who": Param(type="string")}) as d:
        BashOperator(task_id="t", bash_command="echo {{ params.n }}", params={"n": Param(4, type="integer")})
    data = serialize_dag(d, "p.py")
    assert data["params"] == {"n": 3, "plain": "x"}
    assert data["param_schemas"] == {"n": {"type": "integer", "minimum": 1}, "who": {"type": "string"}}
    assert (data["tasks"][0]["params"], data["tasks"][0]["param_schemas"]) == ({"n": 4}, {"n": {"type": "integer"}})


def test_a_default_that_breaks_its_schema_is_a_parse_error_naming_the_param() -> None:
    with pytest.raises(DagDefinitionError, match="DAG 'p': param 'n': default 0 is not valid: 0 is less than the min"):
        DAG("p", params={"n": Param(0, type="integer", minimum=1)})
    with pytest.raises(DagDefinitionError, match="param 'n' has an invalid schema"):
        DAG("p", params={"n": Param(0, type="no such type")})


def test_a_scheduled_dag_cannot_have_a_param_without_default() -> None:
    with pytest.raises(DagDefinitionError, match="param 'who' has no default, so the DAG cannot be scheduled"):
        DAG("p", schedule="@daily", start_date=datetime(2026, 1, 1), params={"who": Param(type="string")})


def test_conf_is_checked_over_the_defaults_naming_the_field() -> None:
    params, schemas = {"n": 3}, {"n": {"type": "integer", "maximum": 5}, "who": {"type": "string"}}
    assert conf_error(params, schemas, {"who": "me"}) == ""
    assert conf_error(params, schemas, {"who": "me", "n": 9}) == "param 'n': 9 is greater than the maximum of 5"
    assert conf_error(params, schemas, {"n": 1}) == "param 'who' has no default, so the conf must give it"
    assert conf_error(params, schemas, {"n": 1, "who": 7}) == "param 'who': 7 is not of type 'string'"


LIMIT = Param(10, type="integer")


def test_dag_function_parameters_become_params_resolved_per_run() -> None:
    seen: dict[str, Any] = {}

    @dag(schedule=None, params={"other": 1})
    def flow(table: str = "sales", limit: Any = LIMIT) -> None:
        seen["table"] = table

        @task
        def load(t: str, n: int) -> str:
            return f"{t}:{n}"

        load(table, limit)
        BashOperator(task_id="echo", bash_command=f"echo {table}")

    d = flow()
    assert isinstance(seen["table"], DagParam)
    assert (d.params, d.param_schemas) == ({"other": 1, "table": "sales", "limit": 10}, {"limit": {"type": "integer"}})
    load = d.task_dict["load"]
    assert isinstance(load, PythonOperator)
    ctx = context(d.params, {"limit": 3})
    assert render(load.op_args, ctx) == ["sales", 3]
    assert render(d.task_dict["echo"].bash_command, ctx) == "echo sales"  # type: ignore[attr-defined]
