"""On-disk cache of preprocessed arrays, keyed by file contents and configuration.

* :func:`file_digests`: the sha256 of each file's content. A small memo (``digests.json`` in the
  cache folder) maps ``(path, size, mtime_ns)`` to the digest, so unchanged files are not re-read;
  a file whose size or mtime changes is hashed again.
* :func:`cache_key`: a sha256 over any JSON-able description (configuration + digests + code
  fingerprint); a change of any part gives a new key, i.e. a cache miss.
* :class:`ArrayCache`: one folder per key holding ``.npy`` arrays (memory-mapped on load) and a
  ``meta.json``; written to a temporary folder and renamed into place, so a crash or a concurrent
  writer (DDP ranks) never leaves a half-written entry.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from motion3d.paths import REPO_ROOT

__all__ = ["CACHE_ENV", "default_cache_dir", "file_digest", "file_digests", "cache_key", "code_fingerprint", "ArrayCache"]

CACHE_ENV = "MOTION3D_CACHE"
_CHUNK = 1 << 22


def default_cache_dir() -> Path:
    """``$MOTION3D_CACHE`` when set, else ``~/.cache/motion3d``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "motion3d"


def file_digest(path: str | os.PathLike) -> str:
    """sha256 (hex) of a file's content."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def file_digests(paths: Iterable[Path], memo_dir: Path | None = None) -> list[str]:
    """sha256 of each file, reusing ``memo_dir/digests.json`` for files whose resolved path,
    size and mtime are unchanged (the memo is updated)."""
    memo_file = None if memo_dir is None else Path(memo_dir) / "digests.json"
    memo: dict[str, list] = {}
    if memo_file is not None and memo_file.is_file():
        try:
            memo = json.loads(memo_file.read_text())
        except ValueError:
            memo = {}
    out, changed = [], False
    for p in paths:
        p = Path(p).resolve()
        st = p.stat()
        stamp = [st.st_size, st.st_mtime_ns]
        hit = memo.get(str(p))
        if hit is not None and hit[:2] == stamp:
            out.append(hit[2])
            continue
        d = file_digest(p)
        memo[str(p)] = stamp + [d]
        out.append(d)
        changed = True
    if changed and memo_file is not None:
        _write_atomic(memo_file, json.dumps(memo))
    return out


def cache_key(description: Any) -> str:
    """sha256 (hex) of the canonical JSON of ``description``."""
    text = json.dumps(description, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def code_fingerprint(*packages: str) -> str:
    """sha256 over the source files of ``motion3d`` subpackages/modules (``"features"``,
    ``"io/bvh.py"``, ...): cached features are recomputed when the code that made them changes."""
    h = hashlib.sha256()
    base = REPO_ROOT / "motion3d"
    for name in packages:
        p = base / name
        files = sorted(p.rglob("*.py")) if p.is_dir() else [p]
        for f in files:
            if f.is_file():
                h.update(str(f.relative_to(base)).encode())
                h.update(f.read_bytes())
    return h.hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class ArrayCache:
    """Entries ``<root>/<key>/{<name>.npy, meta.json}``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser()

    def path(self, key: str) -> Path:
        return self.root / key

    def load(self, key: str, mmap: bool = True) -> tuple[dict[str, np.ndarray], dict] | None:
        """``(arrays, meta)`` of the entry, or ``None`` when there is none (or it is unreadable)."""
        d = self.path(key)
        meta_file = d / "meta.json"
        if not meta_file.is_file():
            return None
        try:
            meta = json.loads(meta_file.read_text())
            arrays = {
                name: np.load(d / f"{name}.npy", mmap_mode="r" if mmap else None, allow_pickle=False)
                for name in meta["arrays"]
            }
        except (OSError, ValueError, KeyError):
            return None
        return arrays, meta["meta"]

    def save(self, key: str, arrays: Mapping[str, np.ndarray], meta: dict) -> Path:
        """Write an entry atomically; an entry already there (another process) is kept."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self.root, prefix=f".{key[:16]}."))
        try:
            for name, a in arrays.items():
                np.save(tmp / f"{name}.npy", np.ascontiguousarray(a), allow_pickle=False)
            (tmp / "meta.json").write_text(json.dumps({"arrays": list(arrays), "meta": meta}))
            final = self.path(key)
            try:
                os.replace(tmp, final)
            except OSError:
                if not (final / "meta.json").is_file():
                    shutil.rmtree(final, ignore_errors=True)
                    os.replace(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return self.path(key)
