"""What lets DAG files written for other orchestrators load unchanged."""

from tradewind.compat.airflow import MODULES, airflow_imports

__all__ = ["MODULES", "airflow_imports"]
