"""Copy shared data into a test's own folder so that the test may change it.

The shared data is read-only (``dr-xr-xr-x``, files ``r--r--r--``); ``shutil.copy2`` and
``shutil.copytree`` keep those modes, so a test running as an ordinary user could not then write,
touch or delete the copies (root can, which hid this). These copy contents only and leave every
copy writable by its owner.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path


def copy_writable(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Copy a file or a folder tree from ``src`` to ``dst`` (contents only; files 0o644 and folders
    0o755 under the umask, whatever the source's modes). Returns ``dst``."""
    src, dst = Path(src), Path(dst)
    if src.is_dir():
        shutil.copytree(src, dst, copy_function=shutil.copyfile, dirs_exist_ok=True)
        for folder, dirs, _ in os.walk(dst):
            os.chmod(folder, 0o755)
    else:
        shutil.copyfile(src, dst)
    return dst
