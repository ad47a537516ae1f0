"""Load the DAGs a file defines: import it as a fresh module and collect every DAG it built.

Used in the DAG processor's parse children and in the worker's task children, never in the
coordinator or worker process themselves: a DAG file is arbitrary code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from pathlib import Path

from tradewind.compat.airflow import airflow_imports
from tradewind.dag import DAG, collecting
from tradewind.exceptions import DagDefinitionError

MODULE_PREFIX = "tradewind_dag_"


def might_contain_dag(path: Path) -> bool:
    """Airflow's safe-mode heuristic: a .py file whose source mentions "dag" and "tradewind" or "airflow"."""
    if path.suffix != ".py":
        return False
    try:
        text = path.read_bytes().lower()
    except OSError:
        return False
    return b"dag" in text and (b"tradewind" in text or b"airflow" in text)


def module_name(fileloc: str) -> str:
    """A module name that is unique per file yet readable in tracebacks and callable names.

    `team_a/etl.py` -> `tradewind_dag__team_a_etl_1f2e3d4c`: the digest keeps `a/b_c.py` and
    `a_b/c.py` apart, and is the same in the DAG processor and on every worker.
    """
    stem = re.sub(r"\W", "_", fileloc.removesuffix(".py"))
    digest = hashlib.sha1(fileloc.encode()).hexdigest()[:8]
    return f"{MODULE_PREFIX}_{stem}_{digest}"


def load_dag_file(path: Path, dags_folder: Path) -> list[DAG]:
    """Import `path` and return its DAGs, validated, in creation order.

    `dags_folder` goes on sys.path so DAG files can import helper modules beside them; `airflow.*`
    imports resolve to Tradewind (tradewind.compat.airflow). A bad DAG raises DagDefinitionError
    naming the file; any other import failure propagates as it is.
    """
    path, folder = path.resolve(), dags_folder.resolve()
    try:
        fileloc = path.relative_to(folder).as_posix()
    except ValueError:
        fileloc = path.as_posix()
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    name = module_name(fileloc)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise DagDefinitionError(f"{fileloc}: not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    with airflow_imports(), collecting(fileloc) as created:
        try:
            spec.loader.exec_module(module)
            dags = _found(created, list(vars(module).values()), fileloc)
        except DagDefinitionError as exc:
            sys.modules.pop(name, None)
            message = str(exc)
            raise DagDefinitionError(message if fileloc in message else f"{fileloc}: {message}") from None
        except BaseException:
            sys.modules.pop(name, None)
            raise
    return dags


def _found(created: list[DAG], module_values: list[object], fileloc: str) -> list[DAG]:
    # DAGs assigned to globals but built elsewhere (a helper's factory called earlier) count too.
    candidates = {id(d): d for d in created}
    for value in module_values:
        if isinstance(value, DAG):
            candidates.setdefault(id(value), value)
    by_id: dict[str, DAG] = {}
    for found in candidates.values():
        if by_id.get(found.dag_id, found) is not found:
            raise DagDefinitionError(f"{fileloc}: DAG id {found.dag_id!r} is defined twice")
        found.fileloc = fileloc
        found.validate()
        by_id[found.dag_id] = found
    return list(by_id.values())
