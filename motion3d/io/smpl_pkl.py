"""Body-model files (SMPL, SMPL-H, MANO ``.pkl``; smplx/AMASS ``.npz``) read safely, without chumpy.

The official ``.pkl`` models are Python-2 pickles of a dict whose arrays are numpy arrays,
``scipy.sparse`` matrices (``J_regressor``) and chumpy arrays (``chumpy.ch.Ch``; chumpy no longer
installs on current Python). Plain ``pickle.load`` would import chumpy, and would run whatever
code an untrusted file asks for. :class:`RestrictedUnpickler` admits only:

* numpy array and scalar reconstruction (``ndarray``, ``dtype``, ``_reconstruct``, ``scalar``,
  ``_frombuffer``) under both ``numpy.core`` and ``numpy._core`` module names;
* ``scipy.sparse`` CSC/CSR/COO matrices, rebuilt from their stored arrays (no scipy code runs
  during unpickling);
* chumpy's array holders (every class of a ``chumpy`` module): a stand-in keeps the pickled state
  and yields its array ``x``;
* ``copyreg._reconstructor`` (Python 2 pickles build objects with it), only for the classes above,
  and ``_codecs.encode`` to latin-1 (how Python 3 spells ``bytes`` in protocols 0-2).

Anything else (``os.system``, ``builtins.eval``, ``subprocess``...) raises :class:`FormatError`
before it is called. ``.npz`` files are read with ``allow_pickle=False``; an object array
inside one goes through the same restricted unpickler.

:func:`load_body_model` returns a dict of plain numpy arrays that :func:`smplx_struct` hands to
smplx (``data_struct=``): ``smplx.SMPL(path, data_struct=smplx_struct(path))`` (smplx's SMPL class
reads only ``.pkl``, with plain ``pickle``); :func:`convert_to_npz` writes an ``.npz`` that smplx's
SMPL-H/SMPL-X classes read with ``ext="npz"``.
"""
from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np

from motion3d.io import FormatError

__all__ = ["RestrictedUnpickler", "safe_loads", "load_body_model", "load_npz", "convert_to_npz", "smplx_struct"]


# ---------------------------------------------------------------------------------------------
# Stand-ins: objects the unpickler builds instead of chumpy / scipy classes
# ---------------------------------------------------------------------------------------------
class _StandIn:
    """Holds the pickled state of a foreign array class; :meth:`array` rebuilds the numpy array."""

    kind = ""

    def __init__(self, *args, **kwargs):
        self.args = args
        self.state = {}

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            state = {**(state[0] or {}), **state[1]}  # (dict, slots) form
        self.state = state if isinstance(state, dict) else {"state": state}


class _ChumpyArray(_StandIn):
    """Any chumpy class: leaf ``Ch`` arrays keep their value in ``x``."""

    def array(self) -> np.ndarray:
        if "x" in self.state:
            return np.asarray(_unwrap(self.state["x"]))
        if self.args:
            return np.asarray(_unwrap(self.args[0]))
        raise ValueError(f"chumpy object {self.kind} without a stored value 'x' (fields: {sorted(self.state)}); "
                         "only plain chumpy arrays can be read without chumpy")


class _SparseMatrix(_StandIn):
    """A scipy.sparse CSC/CSR/COO matrix, rebuilt (dense) from its stored arrays."""

    def array(self) -> np.ndarray:
        import scipy.sparse as sp

        st = {k: _unwrap(v) for k, v in self.state.items()}
        shape = tuple(int(s) for s in (st.get("_shape") or st.get("shape")))
        fmt = self.kind
        if fmt in ("csc", "csr"):
            cls = sp.csc_matrix if fmt == "csc" else sp.csr_matrix
            m = cls((np.asarray(st["data"]), np.asarray(st["indices"]), np.asarray(st["indptr"])), shape=shape)
        else:
            m = sp.coo_matrix((np.asarray(st["data"]), (np.asarray(st["row"]), np.asarray(st["col"]))), shape=shape)
        return np.asarray(m.toarray())


def _stand_in(base: type, module: str, name: str, kind: str) -> type:
    return type(name, (base,), {"kind": kind or f"{module}.{name}", "__module__": __name__})


def _safe_reconstructor(cls, base, state):
    """``copyreg._reconstructor`` restricted to the stand-ins (Python 2 pickles use it)."""
    if not (isinstance(cls, type) and issubclass(cls, _StandIn)) or base is not object:
        raise pickle.UnpicklingError(f"copyreg._reconstructor of {cls!r} is not allowed")
    return cls()


_NP_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(1))[0]
_NP_SCALAR = np.float64(0).__reduce__()[0]
_NP_FROMBUFFER = getattr((np._core if hasattr(np, "_core") else np.core).numeric, "_frombuffer", None)

_ALLOWED: dict[tuple[str, str], object] = {}
for _mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _ALLOWED[(_mod, "_reconstruct")] = _NP_RECONSTRUCT
    _ALLOWED[(_mod, "scalar")] = _NP_SCALAR
for _mod in ("numpy.core.numeric", "numpy._core.numeric"):
    if _NP_FROMBUFFER is not None:
        _ALLOWED[(_mod, "_frombuffer")] = _NP_FROMBUFFER
_ALLOWED[("numpy", "ndarray")] = np.ndarray
_ALLOWED[("numpy", "dtype")] = np.dtype
for _mod in ("copy_reg", "copyreg"):
    _ALLOWED[(_mod, "_reconstructor")] = _safe_reconstructor
for _mod in ("__builtin__", "builtins"):
    _ALLOWED[(_mod, "object")] = object


def _latin1_encode(text, encoding="utf-8", errors="strict"):
    """``_codecs.encode`` as Python 3 pickles (protocols 0-2) spell ``bytes``: latin-1 only."""
    if encoding.lower().replace("_", "-") not in ("latin1", "latin-1", "iso-8859-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} is not allowed")
    return text.encode("latin1", errors)


_ALLOWED[("_codecs", "encode")] = _latin1_encode
_SPARSE: dict[str, type] = {}
for _fmt in ("csc", "csr", "coo"):
    _cls = _stand_in(_SparseMatrix, "scipy.sparse", f"{_fmt}_matrix", _fmt)
    _SPARSE[_fmt] = _cls
    for _mod in ("scipy.sparse", f"scipy.sparse.{_fmt}", f"scipy.sparse._{_fmt}"):
        _ALLOWED[(_mod, f"{_fmt}_matrix")] = _cls
        _ALLOWED[(_mod, f"{_fmt}_array")] = _cls
_CHUMPY: dict[str, type] = {}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that builds numpy arrays, scipy.sparse matrices and chumpy arrays only.

    ``find_class`` is the single door through which a pickle reaches any Python callable; it
    answers from a fixed table (see the module docstring) and refuses everything else.
    """

    def find_class(self, module: str, name: str):
        hit = _ALLOWED.get((module, name))
        if hit is not None:
            return hit
        if module == "chumpy" or module.startswith("chumpy."):
            key = f"{module}.{name}"
            if key not in _CHUMPY:
                _CHUMPY[key] = _stand_in(_ChumpyArray, module, name, key)
            return _CHUMPY[key]
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name}: a body-model file may only contain numpy arrays, "
            "scipy.sparse matrices and chumpy arrays"
        )

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("persistent references are not allowed in a body-model file")


def _unwrap(obj):
    """Replace stand-ins by numpy arrays, recursively through dicts, lists and tuples."""
    if isinstance(obj, _StandIn):
        return obj.array()
    if isinstance(obj, dict):
        return {(k.decode("latin1") if isinstance(k, bytes) else k): _unwrap(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(v) for v in obj)
    if isinstance(obj, np.ndarray) and obj.dtype == object:
        flat = [_unwrap(v) for v in obj.ravel().tolist()]
        out = np.empty(len(flat), dtype=object)
        out[:] = flat
        return out.reshape(obj.shape)
    return obj


def safe_loads(data: bytes, path: str | os.PathLike | None = None):
    """Unpickle ``data`` with :class:`RestrictedUnpickler` (``latin1`` for Python-2 strings)
    and replace chumpy/sparse stand-ins by numpy arrays.

    Raises:
        FormatError: naming ``path`` when the pickle asks for anything but arrays.
    """
    try:
        obj = RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
        return _unwrap(obj)
    except pickle.UnpicklingError as e:
        raise FormatError(path, f"unsafe or invalid pickle: {e}") from None
    except (EOFError, ValueError, TypeError, KeyError, AttributeError, IndexError) as e:
        raise FormatError(path, f"not a readable body-model pickle ({type(e).__name__}: {e})") from None


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------
def load_npz(path: str | os.PathLike) -> dict:
    """Every array of an ``.npz``, read with ``allow_pickle=False``; object arrays (pickled
    inside the archive) go through :class:`RestrictedUnpickler`."""
    path = Path(path)
    out = {}
    try:
        with np.load(path, allow_pickle=False) as z:
            for key in z.files:
                try:
                    out[key] = z[key]
                except ValueError:  # an object array: its payload is a pickle
                    out[key] = _object_member(path, key)
    except (zipfile.BadZipFile, OSError) as e:
        if isinstance(e, FileNotFoundError):
            raise FormatError(path, "no such file") from None
        raise FormatError(path, f"not an .npz archive ({e})") from None
    return out


def _object_member(path: Path, key: str) -> np.ndarray:
    """An object array of an ``.npz``: the ``.npy`` header, then a pickle of the whole array."""
    with zipfile.ZipFile(path) as zf, zf.open(key + ".npy") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            np.lib.format.read_array_header_1_0(f)
        else:
            np.lib.format.read_array_header_2_0(f)
        obj = safe_loads(f.read(), f"{path}[{key}]")
    return obj if isinstance(obj, np.ndarray) else np.asarray(obj)


def load_body_model(path: str | os.PathLike) -> dict:
    """A body-model file as a dict of numpy arrays (and plain strings), without chumpy.

    Args:
        path: an official ``.pkl`` (SMPL ``basicmodel_*.pkl``, ``SMPLH_MALE.pkl``, MANO) or an
            ``.npz`` (smplx's ``SMPLH_MALE.npz``, AMASS's ``male/model.npz``).
    Returns:
        ``{"v_template": (V, 3), "shapedirs": (V, 3, B), "posedirs": (V, 3, P),
        "J_regressor": (J, V) dense, "weights": (V, J), "kintree_table": (2, J), "f": (F, 3), ...}``
        with every key of the file; sparse matrices and chumpy arrays become dense numpy arrays.
    Raises:
        FormatError: naming the file, for unreadable or unsafe content.
    """
    path = Path(path)
    if not path.exists():
        raise FormatError(path, "no such file")
    if path.suffix.lower() == ".npz":
        data = load_npz(path)
    else:
        data = safe_loads(path.read_bytes(), path)
        if not isinstance(data, dict):
            raise FormatError(path, f"a body-model pickle holds a dict, this one a {type(data).__name__}")
    out = {}
    for k, v in data.items():
        if isinstance(v, np.ndarray) and v.dtype == object and v.shape == ():
            v = v.item()
        if isinstance(v, bytes):
            v = v.decode("latin1")
        out[str(k)] = v
    return out


def convert_to_npz(pkl_path: str | os.PathLike, npz_path: str | os.PathLike) -> Path:
    """Write an official (chumpy-pickled) ``.pkl`` body model as an ``.npz`` of plain arrays,
    which smplx loads with ``ext="npz"`` (e.g. ``SMPLH_MALE.pkl -> SMPLH_MALE.npz``)."""
    data = load_body_model(pkl_path)
    arrays = {k: np.asarray(v) for k, v in data.items()
              if isinstance(v, (np.ndarray, str, int, float, np.generic))}
    npz_path = Path(npz_path)
    npz_path.parent.mkdir(parents=True, exist_ok=True)
    with open(npz_path, "wb") as f:
        np.savez(f, **arrays)
    return npz_path


def smplx_struct(path_or_data: str | os.PathLike | dict):
    """A ``smplx.utils.Struct`` for ``smplx.SMPL/SMPLH(..., data_struct=...)``, from a file
    (read by :func:`load_body_model`) or from its dict: smplx then never unpickles anything."""
    from smplx.utils import Struct

    data = path_or_data if isinstance(path_or_data, dict) else load_body_model(path_or_data)
    return Struct(**data)
