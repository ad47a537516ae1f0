"""DAG bundles: the DAG folder as a deterministic zip, named by the hash of its content.

Workers on other machines fetch the bundle a run is pinned to instead of sharing a file
system; the same folder always gives the same hash, any change gives a new one.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tradewind.exceptions import TradewindError

log = logging.getLogger("tradewind.bundles")
MAX_FILE_BYTES = 5 * 1024 * 1024
_EPOCH = (1980, 1, 1, 0, 0, 0)


class BundleError(TradewindError):
    pass


@dataclass(frozen=True)
class Bundle:
    hash: str
    data: bytes


def bundle_files(folder: Path) -> list[Path]:
    """Every file a bundle holds: not hidden, not in __pycache__, at most 5 MB."""
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(names):
            if name.startswith(".") or name.endswith((".pyc", ".pyo")):
                continue
            path = Path(root) / name
            try:
                size = path.stat().st_size
            except OSError:
                continue
            if size > MAX_FILE_BYTES:
                log.warning("%s is larger than 5 MB and is left out of the DAG bundle", path)
                continue
            files.append(path)
    return files


def build_bundle(folder: Path) -> Bundle:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in bundle_files(folder):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            try:
                archive.writestr(info, path.read_bytes())
            except OSError:
                continue
    data = buffer.getvalue()
    return Bundle(hashlib.sha256(data).hexdigest(), data)


def extract_bundle(data: bytes, target: Path) -> None:
    """Extract into `target` atomically; an existing target is left as it is."""
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".bundle-", dir=target.parent))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.infolist():
                name = PurePosixPath(member.filename)
                if name.is_absolute() or ".." in name.parts:
                    raise BundleError(f"DAG bundle member {member.filename!r} points outside the bundle")
                archive.extract(member, staging)
        try:
            staging.rename(target)
        except OSError:
            if not target.exists():
                raise
    except zipfile.BadZipFile as exc:
        raise BundleError(f"DAG bundle is not a valid zip archive: {exc}") from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
