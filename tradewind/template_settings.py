"""A DAG's template settings, as Airflow's DAG takes them: template_searchpath (template files and
`{% include %}`), user_defined_macros, user_defined_filters and render_template_as_native_obj.

Template files are read when the DAG file is parsed, from the search path: the DAG file's folder,
the bundle's root, then template_searchpath (relative entries from the DAG file's folder). A
templated field whose value ends with one of its operator's `template_ext` (".sh" for bash) is
replaced by the file's text, so the coordinator renders what the file says.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import jinja2.nativetypes

from tradewind.exceptions import DagDefinitionError

if TYPE_CHECKING:
    from tradewind.baseoperator import BaseOperator

_PACKAGE = Path(__file__).resolve().parent


@dataclass
class TemplateSettings:
    searchpath: list[Path] = field(default_factory=list)
    macros: dict[str, Any] = field(default_factory=dict)
    filters: dict[str, Callable[..., Any]] = field(default_factory=dict)
    native: bool = False

    def environment(self, base: jinja2.Environment) -> jinja2.Environment:
        """An environment like `base` with this DAG's loader, filters and native rendering."""
        kind = jinja2.nativetypes.NativeEnvironment if self.native else jinja2.Environment
        env = kind(
            undefined=base.undefined,
            keep_trailing_newline=True,
            autoescape=False,
            loader=jinja2.FileSystemLoader([str(p) for p in self.searchpath]),
        )
        env.filters.update({**base.filters, **self.filters})
        return env


def template_settings(
    where: str,
    fileloc: str,
    template_searchpath: str | list[str] | None,
    user_defined_macros: dict[str, Any] | None,
    user_defined_filters: dict[str, Any] | None,
    render_template_as_native_obj: bool,
) -> TemplateSettings:
    folder = _defining_folder()
    roots = [folder]
    if fileloc and folder is not None:
        depth = len(Path(fileloc).parts) - 1
        roots.append(folder.parents[depth - 1] if depth > 0 else folder)
    extra = [template_searchpath] if isinstance(template_searchpath, str) else list(template_searchpath or [])
    if not all(isinstance(p, str | Path) for p in extra):
        raise DagDefinitionError(f"{where}: template_searchpath must be a path or a list of paths, not {extra!r}")
    roots += [(folder / p) if folder is not None else Path(p) for p in extra]
    for name, value in (("user_defined_macros", user_defined_macros), ("user_defined_filters", user_defined_filters)):
        if value is not None and not isinstance(value, dict):
            raise DagDefinitionError(f"{where}: {name} must be a dict, not {value!r}")
    filters = dict(user_defined_filters or {})
    for name, value in filters.items():
        if not callable(value):
            raise DagDefinitionError(f"{where}: user_defined_filters {name!r} must be callable, not {value!r}")
    unique = list(dict.fromkeys(p.resolve() for p in roots if p is not None))
    return TemplateSettings(unique, dict(user_defined_macros or {}), filters, bool(render_template_as_native_obj))


def resolve_template_files(task: BaseOperator, settings: TemplateSettings) -> None:
    """Replace each templated field value naming a template file by the file's text (once)."""
    extensions = tuple(task.template_ext)
    if not extensions:
        return
    for name in task.template_fields:
        value = getattr(task, name, None)
        resolved = _read_files(value, extensions, settings, task)
        if resolved is not value:
            setattr(task, name, resolved)


def _read_files(value: Any, extensions: tuple[str, ...], settings: TemplateSettings, task: BaseOperator) -> Any:
    if isinstance(value, str) and value.endswith(extensions):
        for folder in settings.searchpath:
            path = folder / value
            if path.is_file():
                return path.read_text()
        searched = ", ".join(str(p) for p in settings.searchpath) or "no folder"
        raise DagDefinitionError(
            f"{task.where}: template file {value!r} is not in the template search path ({searched})"
        )
    if isinstance(value, list):
        items = [_read_files(v, extensions, settings, task) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, dict):
        found = {k: _read_files(v, extensions, settings, task) for k, v in value.items()}
        return value if all(found[k] is value[k] for k in value) else found
    return value


def _defining_folder() -> Path | None:
    """The folder of the file that created the DAG: the first caller outside Tradewind."""
    frame = sys._getframe(1)
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if path.is_file() and not path.resolve().is_relative_to(_PACKAGE):
            return path.resolve().parent
        frame = frame.f_back  # type: ignore[assignment]
    return None
