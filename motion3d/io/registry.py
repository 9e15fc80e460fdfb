"""The one dispatch from a file to its reader: every format the library reads, by extension and,
where an extension is shared, by content.

========== ======== ============================ =========================================
format     kind     extensions                   module (``load`` / ``save``)
========== ======== ============================ =========================================
bvh        motion   ``.bvh``                     :mod:`motion3d.io.bvh` (load, save)
amc        motion   ``.amc`` (+ ``.asf`` beside)  :mod:`motion3d.io.amc` (load, save)
amass      motion   ``.npz`` with poses, trans   :mod:`motion3d.io.amass` (load; needs
                                                 ``body_model_dir=``)
humanml3d  joints   ``.npy`` of shape (T, 22, 3) :mod:`motion3d.io.humanml3d` (load, save)
pointcloud points   ``.pcd .ply .xyz .txt .pts   :mod:`motion3d.io.pointcloud` (load, save)
                    .csv .npy .npz``
mesh       mesh     ``.off .obj .ply .stl .glb   :mod:`motion3d.io.mesh` (load, save)
                    .gltf``
========== ======== ============================ =========================================

Shared extensions are told apart by a cheap look at the content (:func:`detect`): a ``.npy`` is
HumanML3D joints when its header says ``(T, 22, 3)`` and a point cloud when it is ``(N, 3 + C)``;
a ``.npz`` is AMASS when it holds ``poses`` and ``trans`` arrays; a ``.ply`` is a mesh when it
declares faces (:func:`ply_has_faces`). Callers that want one kind pass ``kinds=``, which also
settles the extension without reading the file when only one format of those kinds has it.

:func:`load_motion`, :func:`format_of` and :func:`find_motion_files` are the motion-only entry
points. A format whose module cannot be imported here gets an ``ImportError`` that says which
module and why.
"""
from __future__ import annotations

import ast
import importlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from motion3d.io import FormatError
from motion3d.io.mesh import SUFFIXES as _MESH_SUFFIXES
from motion3d.io.pointcloud import SUFFIXES as _POINT_SUFFIXES
from motion3d.motion import Motion

__all__ = ["Format", "FORMATS", "KINDS", "MOTION_FORMATS", "detect", "load", "save", "suffixes",
           "format_of", "format_module", "load_motion", "find_motion_files", "ply_has_faces",
           "npy_shape", "npz_names"]

KINDS = ("motion", "joints", "points", "mesh")


# ---------------------------------------------------------------------------------------------
# content checks (read headers only, never the arrays)
# ---------------------------------------------------------------------------------------------
def ply_has_faces(path: str | os.PathLike) -> bool:
    """Whether a PLY file's header declares one or more faces (a mesh rather than a point cloud).
    Reads the header only (the first 4 KiB)."""
    with open(path, "rb") as f:
        head = f.read(4096)
    end = head.find(b"end_header")
    header = head[: end if end >= 0 else len(head)].decode("ascii", errors="replace")
    for line in header.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "element" and parts[1] == "face":
            try:
                return int(parts[2]) > 0
            except ValueError:
                return False
    return False


def npy_shape(path: str | os.PathLike) -> tuple[int, ...] | None:
    """The array shape a ``.npy`` header declares, or ``None`` when the file is not a ``.npy``
    (or declares pickled objects). Reads the header only."""
    try:
        with open(path, "rb") as f:
            if f.read(6) != b"\x93NUMPY":
                return None
            major = f.read(2)[:1]
            size_len = 2 if major == b"\x01" else 4
            size = int.from_bytes(f.read(size_len), "little")
            if size > 65536:
                return None
            header = ast.literal_eval(f.read(size).decode("latin1"))
    except (OSError, ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError):
        return None
    if not isinstance(header, dict) or str(header.get("descr", "O")).startswith("|O"):
        return None
    shape = header.get("shape")
    if not isinstance(shape, tuple) or not all(isinstance(n, int) for n in shape):
        return None
    return shape


def npz_names(path: str | os.PathLike) -> set[str]:
    """The array names in a ``.npz`` archive (empty when it is not a zip). Reads the directory only."""
    try:
        with zipfile.ZipFile(path) as z:
            return {n[:-4] if n.endswith(".npy") else n for n in z.namelist()}
    except (OSError, zipfile.BadZipFile, ValueError):
        return set()


def _is_amass(path: Path) -> bool:
    return {"poses", "trans"} <= npz_names(path)


def _is_humanml3d(path: Path) -> bool:
    shape = npy_shape(path)
    return shape is not None and len(shape) == 3 and shape[1:] == (22, 3)


def _is_point_cloud(path: Path) -> bool:
    s = path.suffix.lower()
    if s == ".npy":
        shape = npy_shape(path)
        return shape is not None and len(shape) == 2 and shape[1] >= 3
    if s == ".npz":
        return bool(npz_names(path)) and not _is_amass(path)
    if s == ".ply":
        return not ply_has_faces(path)
    return True


def _is_mesh(path: Path) -> bool:
    return ply_has_faces(path) if path.suffix.lower() == ".ply" else True


# ---------------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Format:
    """One file format.

    Attributes:
        name: ``"bvh"``, ``"amass"``, ``"humanml3d"``, ...
        kind: what ``load`` returns: ``"motion"`` (a :class:`~motion3d.Motion`), ``"joints"``
            (``(T, J, 3)`` positions), ``"points"`` (``(N, 3 + C)``), ``"mesh"`` (a Trimesh).
        module: the module under ``motion3d.io`` with ``load`` (and ``save`` when ``saves``).
        suffixes: lower-case extensions.
        sniff: ``path -> bool``, asked only when several formats share the extension.
        saves: the module has ``save``.
        motion_first: ``save(obj, path)`` (motions) rather than ``save(path, obj)``.
        describe: what the content check looks for, for error messages.
    """

    name: str
    kind: str
    module: str
    suffixes: tuple[str, ...]
    sniff: Callable[[Path], bool]
    saves: bool = True
    motion_first: bool = False
    describe: str = ""

    def load(self, path: str | os.PathLike, **kwargs) -> Any:
        """``motion3d.io.<module>.load(path, **kwargs)``."""
        return format_module(self.module).load(path, **kwargs)

    def save(self, obj, path: str | os.PathLike, **kwargs):
        """Write ``obj`` in this format (``motion3d.io.<module>.save``)."""
        if not self.saves:
            raise ValueError(f"{self.name} files can be read but not written")
        mod = format_module(self.module)
        return mod.save(obj, path, **kwargs) if self.motion_first else mod.save(path, obj, **kwargs)


#: every format, in the order content checks are tried for a shared extension
FORMATS: tuple[Format, ...] = (
    Format("bvh", "motion", "bvh", (".bvh",), lambda p: True, motion_first=True),
    Format("amc", "motion", "amc", (".amc",), lambda p: True, motion_first=True),
    Format("amass", "motion", "amass", (".npz",), _is_amass, saves=False,
           describe="an AMASS archive (poses and trans arrays)"),
    Format("humanml3d", "joints", "humanml3d", (".npy",), _is_humanml3d,
           describe="HumanML3D joint positions of shape (T, 22, 3)"),
    Format("pointcloud", "points", "pointcloud", _POINT_SUFFIXES, _is_point_cloud,
           describe="a point cloud ((N, 3 + C) array, or a PLY without faces)"),
    Format("mesh", "mesh", "mesh", _MESH_SUFFIXES, _is_mesh, describe="a mesh (a PLY with faces)"),
)

#: extension -> module name under motion3d.io, for the motion formats
MOTION_FORMATS = {s: f.module for f in FORMATS if f.kind == "motion" for s in f.suffixes}


def _kinds(kinds: str | Iterable[str] | None) -> tuple[str, ...]:
    if kinds is None:
        return KINDS
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise ValueError(f"unknown format kind(s) {bad}; kinds: {list(KINDS)}")
    return kinds


def suffixes(kinds: str | Iterable[str] | None = None) -> tuple[str, ...]:
    """The extensions of the formats of ``kinds`` (all formats by default), without repeats."""
    ks = _kinds(kinds)
    return tuple(dict.fromkeys(s for f in FORMATS if f.kind in ks for s in f.suffixes))


def detect(path: str | os.PathLike, kinds: str | Iterable[str] | None = None) -> Format:
    """The format of ``path`` among the formats of ``kinds`` (default: all).

    The extension picks the candidates; when more than one remains, their content checks decide
    (the file is read, headers only).
    Raises:
        FormatError: an extension no format of ``kinds`` has, or content that fits none of them.
        FileNotFoundError: the content must be read and the file does not exist.
    """
    path = Path(path)
    ks = _kinds(kinds)
    ext = path.suffix.lower()
    cands = [f for f in FORMATS if f.kind in ks and ext in f.suffixes]
    if not cands:
        what = "unknown motion file" if ks == ("motion",) else "unsupported file"
        raise FormatError(path, f"{what} extension {ext or '(none)'!r}; supported: {', '.join(suffixes(ks))}")
    if len(cands) == 1:
        return cands[0]
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    for f in cands:
        if f.sniff(path):
            return f
    raise FormatError(path, f"the content is none of the {ext} formats: " + "; ".join(f.describe or f.name for f in cands))


def load(path: str | os.PathLike, kinds: str | Iterable[str] | None = None, **kwargs) -> Any:
    """Load any supported file (:func:`detect`); ``kwargs`` go to the format's ``load``. What comes
    back depends on the format's kind: ``detect(path).kind``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    return detect(path, kinds).load(path, **kwargs)


def save(obj, path: str | os.PathLike, kinds: str | Iterable[str] | None = None, **kwargs):
    """Write ``obj`` in the format of ``path``'s extension. A shared extension (``.npy``, ``.ply``)
    is settled by ``kinds`` or else by the object: a Motion, a mesh (has ``faces``), ``(T, 22, 3)``
    joints or an ``(N, 3 + C)`` array."""
    path = Path(path)
    ks = _kinds(kinds)
    ext = path.suffix.lower()
    cands = [f for f in FORMATS if f.kind in ks and ext in f.suffixes and f.saves]
    if len(cands) > 1:
        if isinstance(obj, Motion):
            kind = "motion"
        elif hasattr(obj, "faces"):
            kind = "mesh"
        else:
            shape = getattr(obj, "shape", None)
            kind = "joints" if shape is not None and len(shape) == 3 else "points"
        cands = [f for f in cands if f.kind == kind]
    if not cands:
        raise FormatError(path, f"no writable format for extension {ext or '(none)'!r}; "
                                f"writable: {', '.join(dict.fromkeys(s for f in FORMATS if f.saves for s in f.suffixes))}")
    return cands[0].save(obj, path, **kwargs)


# ---------------------------------------------------------------------------------------------
# motions
# ---------------------------------------------------------------------------------------------
def format_of(path: str | os.PathLike) -> str:
    """The motion format module name (``"bvh"``, ``"amc"``, ``"amass"``) for ``path``'s extension."""
    return detect(path, "motion").module


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
    return detect(path, "motion").load(path, **kwargs)


def find_motion_files(directory: str | os.PathLike) -> list[Path]:
    """Supported motion files under ``directory`` (recursive), sorted."""
    root = Path(directory)
    if not root.is_dir():
        raise NotADirectoryError(f"not a directory: {root}")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in MOTION_FORMATS)
