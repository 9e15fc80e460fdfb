"""On-disk cache of preprocessed arrays, keyed by file contents and configuration.

* :func:`file_digests`: the BLAKE2b digest of each file's whole content, read every time. Size and
  modification time are never trusted: an edit that keeps both (a restored mtime, a copy with
  ``cp -p``, a same-length change) still changes the digest. Hashing is fast (BLAKE2b streams at
  about 350 MB/s on one core: the 109 MB of the Bandai-Namco 1 and 2 and CMU folders take about
  0.25 s when the files are in the OS page cache).
* :func:`cache_key`: a sha256 over any JSON-able description (configuration + digests + code
  fingerprint); a change of any part gives a new key, i.e. a cache miss.
* :class:`ArrayCache`: one folder per key holding ``.npy`` arrays (memory-mapped on load) and a
  ``meta.json``; written to a temporary folder and renamed into place, so a crash or a concurrent
  writer (DDP ranks) never leaves a half-written entry.

When the cache is trusted: an entry is used only when every file's content, the configuration and
the fingerprint of the feature code are the same as when it was written. Setting the environment
variable ``MOTION3D_NO_CACHE=1`` turns caching off (:class:`ArrayCache` neither reads nor writes);
deleting the cache folder (``$MOTION3D_CACHE``, default ``~/.cache/motion3d``) is always safe.
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

__all__ = ["CACHE_ENV", "NO_CACHE_ENV", "default_cache_dir", "cache_disabled", "file_digest", "file_digests",
           "cache_key", "code_fingerprint", "ArrayCache"]

CACHE_ENV = "MOTION3D_CACHE"
NO_CACHE_ENV = "MOTION3D_NO_CACHE"
_CHUNK = 1 << 20


def default_cache_dir() -> Path:
    """``$MOTION3D_CACHE`` when set, else ``~/.cache/motion3d``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "motion3d"


def cache_disabled() -> bool:
    """Whether ``$MOTION3D_NO_CACHE`` turns caching off (any value but ``""``, ``0``, ``false``, ``no``)."""
    return os.environ.get(NO_CACHE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def file_digest(path: str | os.PathLike) -> str:
    """``"blake2b:"`` + the 256-bit BLAKE2b (hex) of a file's whole content, read in 1 MiB pieces."""
    h = hashlib.blake2b(digest_size=32)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return "blake2b:" + h.hexdigest()


def file_digests(paths: Iterable[Path], memo_dir: Path | None = None) -> list[str]:
    """:func:`file_digest` of each file, always from its content.

    ``memo_dir`` is accepted for compatibility and not used: digests used to be remembered by
    ``(path, size, mtime)``, which served stale features after an edit that kept both.
    """
    del memo_dir
    return [file_digest(p) for p in paths]


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


class ArrayCache:
    """Entries ``<root>/<key>/{<name>.npy, meta.json}``.

    ``enabled=False`` (default: off when ``$MOTION3D_NO_CACHE`` is set) makes it a cache that
    holds nothing: :meth:`load` returns ``None`` and :meth:`save` writes nothing and returns ``None``.
    """

    def __init__(self, root: str | os.PathLike, enabled: bool | None = None):
        self.root = Path(root).expanduser()
        self.enabled = (not cache_disabled()) if enabled is None else bool(enabled)

    def path(self, key: str) -> Path:
        return self.root / key

    def load(self, key: str, mmap: bool = True) -> tuple[dict[str, np.ndarray], dict] | None:
        """``(arrays, meta)`` of the entry, or ``None`` when there is none (or it is unreadable)."""
        if not self.enabled:
            return None
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

    def save(self, key: str, arrays: Mapping[str, np.ndarray], meta: dict) -> Path | None:
        """Write an entry atomically; an entry already there (another process) is kept. Returns its
        folder (``None`` when the cache is disabled: nothing is written)."""
        if not self.enabled:
            return None
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
