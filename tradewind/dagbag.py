"""Load the DAGs a file defines: import it as a fresh module, collect every DAG it built.

Used in the DAG processor's parse children and in the worker's task children, never in the
coordinator or worker process themselves.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

from tradewind.dag import DAG, collecting
from tradewind.exceptions import DagDefinitionError


def might_contain_dag(path: Path) -> bool:
    """Airflow's safe-mode heuristic: a .py file that mentions both "dag" and "tradewind"."""
    if path.suffix != ".py":
        return False
    try:
        text = path.read_bytes().lower()
    except OSError:
        return False
    return b"dag" in text and b"tradewind" in text


def load_dag_file(path: Path, dags_folder: Path) -> list[DAG]:
    """Import `path`; returns its DAGs, validated. A bad DAG raises DagDefinitionError naming the file."""
    path = path.resolve()
    folder = dags_folder.resolve()
    try:
        fileloc = path.relative_to(folder).as_posix()
    except ValueError:
        fileloc = path.as_posix()
    name = "tradewind_dag_" + hashlib.sha1(fileloc.encode()).hexdigest()[:16]
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise DagDefinitionError(f"{fileloc}: not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    with collecting() as created:
        try:
            spec.loader.exec_module(module)
        except DagDefinitionError as exc:
            raise DagDefinitionError(f"{fileloc}: {exc}") from None
    dags = {id(d): d for d in created}
    for value in vars(module).values():
        if isinstance(value, DAG):
            dags[id(value)] = value
    seen: dict[str, DAG] = {}
    for found in dags.values():
        if found.dag_id in seen and seen[found.dag_id] is not found:
            raise DagDefinitionError(f"{fileloc}: DAG id {found.dag_id!r} is defined twice")
        found.fileloc = fileloc
        found.validate(fileloc)
        seen[found.dag_id] = found
    return list(seen.values())
