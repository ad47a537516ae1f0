"""The built-in operators, one family per module."""

from tradewind.operators.bash import BashOperator
from tradewind.operators.empty import EmptyOperator
from tradewind.operators.python import PythonOperator

__all__ = ["BashOperator", "EmptyOperator", "PythonOperator"]
