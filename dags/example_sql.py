"""SQL tasks on the `sqlite_default` connection: create a table, insert rows, query, check.

`sqlite_default` is a SQLite file in the temp folder unless TRADEWIND_CONN_SQLITE_DEFAULT (or
AIRFLOW_CONN_SQLITE_DEFAULT) says otherwise; pointed at PostgreSQL (postgresql://user:pass@host/db)
the same DAG runs there, through PostgresHook.
"""

from datetime import datetime

from tradewind import DAG, BaseHook, SQLExecuteQueryOperator, SQLValueCheckOperator, task

CONN_ID = "sqlite_default"
ORDERS = [(1, "ada", 12.5), (2, "grace", 30.0), (3, "linus", 47.25)]

with DAG(dag_id="example_sql", schedule="@once", start_date=datetime(2024, 1, 1), tags=["example"]):
    create = SQLExecuteQueryOperator(
        task_id="create_table",
        conn_id=CONN_ID,
        sql=[
            "DROP TABLE IF EXISTS example_sql_orders",
            "CREATE TABLE example_sql_orders (id INTEGER PRIMARY KEY, customer VARCHAR(50), amount NUMERIC(10, 2))",
        ],
    )

    @task
    def insert() -> int:
        hook = BaseHook.get_hook(CONN_ID)
        return hook.insert_rows("example_sql_orders", ORDERS, target_fields=["id", "customer", "amount"])

    @task
    def big_orders(minimum: float = 20) -> list:
        hook = BaseHook.get_hook(CONN_ID)
        sql = f"SELECT customer FROM example_sql_orders WHERE amount >= {hook.placeholder} ORDER BY id"
        return [row[0] for row in hook.get_records(sql, parameters=[minimum])]

    query = SQLExecuteQueryOperator(
        task_id="query_orders",
        conn_id=CONN_ID,
        sql="SELECT customer, amount FROM example_sql_orders ORDER BY id",
        show_return_value_in_logs=True,
    )
    check = SQLValueCheckOperator(
        task_id="check_count", conn_id=CONN_ID, sql="SELECT COUNT(*) FROM example_sql_orders", pass_value=3
    )

    @task
    def report(rows: list, big: list) -> float:
        total = sum(float(amount) for _, amount in rows)
        print(f"{len(rows)} orders, {total:.2f} in all; {', '.join(big)} spent 20 or more")
        return total

    loaded = insert()
    big = big_orders()
    create >> loaded >> [query, check, big]
    report(query.output, big)
