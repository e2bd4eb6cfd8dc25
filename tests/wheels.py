"""Local wheels built inside tests, so real pip installs need no network."""

from __future__ import annotations

import base64
import hashlib
import importlib
import importlib.metadata
import shutil
import sys
import zipfile
from pathlib import Path


def build_wheel(directory: Path, name: str, *, requires: tuple[str, ...] = ()) -> Path:
    """A minimal pure-Python wheel: `name/__init__.py` with VALUE = 42, plus its dist-info."""
    dist_info = f"{name}-1.0.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n" + "".join(
        f"Requires-Dist: {req}\n" for req in requires
    )
    files = {
        f"{name}/__init__.py": "VALUE = 42\n",
        f"{dist_info}/METADATA": metadata,
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tuichat-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = "\n".join(record) + "\n"
    wheel = directory / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def uninstall(name: str) -> None:
    """Remove a wheel from `build_wheel` that pip installed: the top-level folders its RECORD lists
    (the package and its dist-info), as `pip uninstall` would, without a second pip start-up."""
    importlib.invalidate_caches()
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        dist = None
    # Only a wheel built here: never a real distribution that happens to have the name.
    if dist is not None and "Generator: tuichat-tests" in (dist.read_text("WHEEL") or ""):
        site = Path(str(dist.locate_file("")))
        for top in sorted({Path(str(file)).parts[0] for file in dist.files or ()}):
            if top in (name, dist.metadata["Name"]) or top.endswith(".dist-info"):
                shutil.rmtree(site / top, ignore_errors=True)
    sys.modules.pop(name, None)
    importlib.invalidate_caches()
