"""Where the datasets live: one setting for tests, benchmarks and default configs.

The environment variable ``MOTION3D_DATA`` wins; otherwise ``../shared/data`` (relative to the
repository root) when it exists, else ``data/`` in the repository.
"""
from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "MOTION3D_DATA"
REPO_ROOT = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    """The dataset root directory (it may not exist: callers report that with the path)."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    shared = REPO_ROOT.parent / "shared" / "data"
    if shared.is_dir():
        return shared
    return REPO_ROOT / "data"


def resolve_data_path(path: str | os.PathLike) -> Path:
    """Expand a ``${MOTION3D_DATA}``-style path used in configs: ``data:mocap/cmu`` or a plain path."""
    s = os.fspath(path)
    if s.startswith("data:"):
        return data_root() / s[len("data:"):].lstrip("/")
    s = s.replace("${MOTION3D_DATA}", str(data_root())).replace("$MOTION3D_DATA", str(data_root()))
    return Path(s).expanduser()
