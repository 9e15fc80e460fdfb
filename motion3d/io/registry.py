"""One entry point for every motion format: :func:`load_motion` dispatches on the file extension.

``.bvh`` -> :mod:`motion3d.io.bvh`, ``.amc`` -> :mod:`motion3d.io.amc` (the ``.asf`` is found
beside it unless ``asf_path=`` is given), ``.npz`` -> :mod:`motion3d.io.amass` (needs
``body_model_dir=``). A format whose module is not available in this installation gets an
``ImportError`` that says which module and why.
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path

from motion3d.io import FormatError
from motion3d.motion import Motion

__all__ = ["MOTION_FORMATS", "format_of", "load_motion", "format_module", "find_motion_files"]

#: extension -> module name under motion3d.io
MOTION_FORMATS = {".bvh": "bvh", ".amc": "amc", ".npz": "amass"}


def format_of(path: str | os.PathLike) -> str:
    """The format module name (``"bvh"``, ``"amc"``, ``"amass"``) for ``path``'s extension."""
    ext = Path(path).suffix.lower()
    if ext not in MOTION_FORMATS:
        raise FormatError(
            path, f"unknown motion file extension {ext or '(none)'!r}; supported: {', '.join(MOTION_FORMATS)}"
        )
    return MOTION_FORMATS[ext]


def format_module(name: str):
    """Import ``motion3d.io.<name>``; ``ImportError`` with the reason when it is unavailable."""
    try:
        return importlib.import_module(f"motion3d.io.{name}")
    except ImportError as e:
        raise ImportError(
            f"reading {name} files needs motion3d.io.{name}, which cannot be imported here: {e}"
        ) from e


def load_motion(path: str | os.PathLike, **kwargs) -> Motion:
    """Load any supported motion file; ``kwargs`` go to the format's ``load`` (for example
    ``up="z"`` for BVH, ``asf_path=`` for AMC, ``body_model_dir=`` for AMASS)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such motion file: {path}")
    return format_module(format_of(path)).load(path, **kwargs)


def find_motion_files(directory: str | os.PathLike) -> list[Path]:
    """Supported motion files under ``directory`` (recursive), sorted."""
    root = Path(directory)
    if not root.is_dir():
        raise NotADirectoryError(f"not a directory: {root}")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in MOTION_FORMATS)
