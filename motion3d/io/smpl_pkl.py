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
before it is called. ``.npz`` files are read member by member (:func:`read_npy`): each ``.npy``
header's shape x itemsize is checked against the bytes the member really holds before anything is
allocated; an object array inside one goes through the same restricted unpickler.

Sizes are bounded before anything is allocated: the pickle's opcodes are scanned first (a counted
string longer than the file is refused before the unpickler allocates it), ``numpy.ndarray`` cannot
be called with a shape (only named as the class of a pickled array), sparse matrices are densified
only when their dense size fits the model (one side the vertex count ``V`` of ``v_template``, the
other at most :data:`MAX_JOINTS`), and containers nest at most :data:`MAX_DEPTH` levels. Two kinds
of error are told apart: "not a pickle / unsafe pickle" (the bytes) and "wrong contents" (which
array, which shape was expected); :func:`load_body_model` also checks the shapes and finiteness of
the standard arrays.

:func:`load_body_model` returns a dict of plain numpy arrays that :func:`smplx_struct` hands to
smplx (``data_struct=``): ``smplx.SMPL(path, data_struct=smplx_struct(path))`` (smplx's SMPL class
reads only ``.pkl``, with plain ``pickle``); :func:`convert_to_npz` writes an ``.npz`` that smplx's
SMPL-H/SMPL-X classes read with ``ext="npz"``.
"""
from __future__ import annotations

import io
import os
import pickle
import pickletools
import zipfile
import zlib
from pathlib import Path

import numpy as np

from motion3d.io import FormatError

__all__ = ["RestrictedUnpickler", "safe_loads", "load_body_model", "load_npz", "read_npy", "convert_to_npz",
           "smplx_struct", "check_model_arrays", "MAX_DEPTH", "MAX_JOINTS"]

#: deepest nesting of lists/tuples/dicts a body-model pickle may have (real files: 3)
MAX_DEPTH = 64
#: most joints (rows of a sparse regressor) a body model may have (SMPL-X: 55)
MAX_JOINTS = 1024
#: largest dense size of a sparse matrix when the model's vertex count is not known
_MAX_FREE_DENSE_BYTES = 1 << 27


class _BadContent(Exception):
    """A pickle that unpickled, but whose contents are wrong: ``key`` names the array."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


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

    def array(self, depth: int, vertices: int | None) -> np.ndarray:
        if "x" in self.state:
            return np.asarray(_unwrap(self.state["x"], depth + 1, vertices))
        if self.args:
            return np.asarray(_unwrap(self.args[0], depth + 1, vertices))
        raise _BadContent(f"chumpy object {self.kind} without a stored value 'x' (fields: "
                          f"{sorted(map(str, self.state))}); only plain chumpy arrays can be read without chumpy")


class _SparseMatrix(_StandIn):
    """A scipy.sparse CSC/CSR/COO matrix, rebuilt (dense) from its stored arrays, once its dense
    size is known to be sane: with ``vertices`` known, one side must be ``vertices`` and the other
    at most :data:`MAX_JOINTS`; otherwise the dense matrix must stay under 128 MiB."""

    def array(self, depth: int, vertices: int | None) -> np.ndarray:
        import scipy.sparse as sp

        st = {str(k): _unwrap(v, depth + 1, vertices) for k, v in self.state.items()}
        raw_shape = st.get("_shape", st.get("shape"))
        try:
            shape = tuple(int(s) for s in raw_shape)
        except (TypeError, ValueError, OverflowError):
            raise _BadContent(f"sparse {self.kind} matrix without a valid shape ({raw_shape!r})") from None
        if len(shape) != 2 or min(shape) < 0:
            raise _BadContent(f"sparse {self.kind} matrix of shape {shape}, expected 2 non-negative sizes")
        data = np.asarray(st.get("data", np.zeros(0)))
        if data.dtype.kind not in "biuf":
            raise _BadContent(f"sparse {self.kind} matrix holds {data.dtype} values, expected numbers")
        rows, cols = shape
        dense_bytes = rows * cols * max(data.dtype.itemsize, 1)
        if vertices is not None:
            if not ((cols == vertices and rows <= MAX_JOINTS) or (rows == vertices and cols <= MAX_JOINTS)):
                raise _BadContent(f"sparse matrix of shape {shape} does not fit a model of {vertices} vertices "
                                  f"(expected (J, {vertices}) with J <= {MAX_JOINTS}); refusing to densify "
                                  f"{dense_bytes / 2**30:.1f} GiB")
        elif dense_bytes > _MAX_FREE_DENSE_BYTES:
            raise _BadContent(f"sparse matrix of shape {shape} would take {dense_bytes / 2**30:.1f} GiB dense "
                              f"(more than {_MAX_FREE_DENSE_BYTES >> 20} MiB without a v_template to size it by)")
        try:
            fmt = self.kind
            if fmt in ("csc", "csr"):
                cls = sp.csc_matrix if fmt == "csc" else sp.csr_matrix
                m = cls((data, np.asarray(st["indices"]), np.asarray(st["indptr"])), shape=shape)
                m.check_format(full_check=True)  # index bounds: toarray() itself never checks them
            else:
                coords = st["coords"] if "coords" in st else (st["row"], st["col"])  # scipy >= 1.13: coords
                if len(coords) != 2:
                    raise _BadContent(f"sparse coo matrix with {len(coords)} index arrays, expected 2")
                m = sp.coo_matrix((data, (np.asarray(coords[0]), np.asarray(coords[1]))), shape=shape)
            return np.asarray(m.toarray())
        except KeyError as e:
            raise _BadContent(f"sparse {self.kind} matrix without its {e.args[0]!r} array") from None
        except (ValueError, TypeError, IndexError) as e:
            raise _BadContent(f"inconsistent sparse {self.kind} matrix ({e})") from None


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


class _NdarrayName:
    """What ``numpy.ndarray`` unpickles to: only :func:`_safe_reconstruct` accepts it. Calling the
    real class from a pickle (``ndarray((10**9,))``) would allocate whatever shape the file asks."""

    def __init__(self, *args, **kwargs):
        raise pickle.UnpicklingError("numpy.ndarray may only be named as the class of a pickled array, "
                                     "not called")


def _safe_reconstruct(cls, shape, dtype):
    """numpy's ``_reconstruct`` as numpy pickles use it: an empty placeholder array whose data
    ``__setstate__`` fills (numpy always writes shape ``(0,)``); any real shape is refused."""
    if cls is not _NdarrayName:
        raise pickle.UnpicklingError(f"numpy _reconstruct of {cls!r} is not allowed")
    try:
        size = int(np.prod([int(s) for s in shape], dtype=object)) if isinstance(shape, tuple) else int(shape)
    except (TypeError, ValueError):
        raise pickle.UnpicklingError(f"numpy _reconstruct with shape {shape!r}") from None
    if size > 1:
        raise pickle.UnpicklingError(f"numpy _reconstruct asks for a {shape} placeholder (numpy writes (0,))")
    return _NP_RECONSTRUCT(np.ndarray, shape, dtype)


_ALLOWED: dict[tuple[str, str], object] = {}
for _mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _ALLOWED[(_mod, "_reconstruct")] = _safe_reconstruct
    _ALLOWED[(_mod, "scalar")] = _NP_SCALAR
for _mod in ("numpy.core.numeric", "numpy._core.numeric"):
    if _NP_FROMBUFFER is not None:
        _ALLOWED[(_mod, "_frombuffer")] = _NP_FROMBUFFER
_ALLOWED[("numpy", "ndarray")] = _NdarrayName
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


def _unwrap(obj, depth: int = 0, vertices: int | None = None):
    """Replace stand-ins by numpy arrays, recursively through dicts, lists and tuples, at most
    :data:`MAX_DEPTH` levels deep (a self-containing list is refused the same way). ``vertices``
    sizes the sparse matrices (see :class:`_SparseMatrix`)."""
    if depth > MAX_DEPTH:
        raise _BadContent(f"containers nested more than {MAX_DEPTH} levels deep (or containing themselves)")
    if isinstance(obj, _StandIn):
        return obj.array(depth, vertices)
    if isinstance(obj, dict):
        return {(k.decode("latin1") if isinstance(k, bytes) else k): _unwrap(v, depth + 1, vertices)
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(v, depth + 1, vertices) for v in obj)
    if isinstance(obj, np.ndarray) and obj.dtype == object:
        flat = [_unwrap(v, depth + 1, vertices) for v in obj.ravel().tolist()]
        out = np.empty(len(flat), dtype=object)
        out[:] = flat
        return out.reshape(obj.shape)
    return obj


def _unwrap_top(obj):
    """:func:`_unwrap` for the whole pickle. A dict is done in two passes: every dense member
    first, then the sparse matrices, sized by the vertex count of ``v_template``. A
    :class:`_BadContent` gets the key it came from."""
    if not isinstance(obj, dict):
        return _unwrap(obj)
    out = {}
    sparse = []
    for k, v in obj.items():
        key = k.decode("latin1") if isinstance(k, bytes) else k
        if isinstance(v, _SparseMatrix):
            sparse.append((key, v))
            continue
        try:
            out[key] = _unwrap(v, 1)
        except _BadContent as e:
            e.key = e.key or str(key)
            raise
    vt = out.get("v_template")
    vertices = int(np.shape(vt)[0]) if isinstance(vt, np.ndarray) and vt.ndim >= 1 else None
    for key, v in sparse:
        try:
            out[key] = v.array(1, vertices)
        except _BadContent as e:
            e.key = e.key or str(key)
            raise
    return {k: out[k.decode("latin1") if isinstance(k, bytes) else k] for k in obj}


#: most objects the unpickler's stack may hold at once (protocol 2+ pickles batch list and dict
#: items by 1000) and most MARKs open at once (each container being filled opens one)
_MAX_STACK = 1 << 15
_MAX_MARKS = 4 * MAX_DEPTH


def _scan_opcodes(data: bytes, path) -> None:
    """Walk the pickle's opcodes without building anything, following the depth of the
    unpickler's stack and of its MARKs. Refused here, at the cost of the file's size in memory at
    most: a truncated or garbled pickle, a counted string longer than the file (which the C
    unpickler would allocate before reading), a stack or MARK nesting deeper than any body model
    needs (200,000 nested lists)."""
    mark = pickletools.markobject
    depth = 0
    marks: list[int] = []
    try:
        for op, _, pos in pickletools.genops(data):
            before, after = op.stack_before, op.stack_after
            if mark in before:  # pops everything above the last MARK, and what lies below it
                if not marks:
                    raise ValueError(f"opcode {op.name} at byte {pos} without a MARK")
                depth = marks.pop() - before.index(mark)
            else:
                depth -= len(before)
            if mark in after:
                marks.append(depth)
                if len(marks) > _MAX_MARKS:
                    raise ValueError(f"more than {_MAX_MARKS} nested MARKs (containers nested too deep)")
            else:
                depth += len(after)
            if depth < 0:
                raise ValueError(f"opcode {op.name} at byte {pos} pops an empty stack")
            if depth > _MAX_STACK:
                raise ValueError(f"more than {_MAX_STACK} objects on the unpickling stack (containers nested "
                                 "too deep?)")
    except (ValueError, EOFError) as e:
        raise FormatError(path, f"not a pickle, a truncated one or one no body model needs: {e}") from None


def safe_loads(data: bytes, path: str | os.PathLike | None = None):
    """Unpickle ``data`` with :class:`RestrictedUnpickler` (``latin1`` for Python-2 strings)
    and replace chumpy/sparse stand-ins by numpy arrays.

    Raises:
        FormatError: naming ``path``: "not a pickle" / "unsafe or invalid pickle" when the bytes
            are not a pickle or ask for anything but arrays; "wrong contents" naming the key when
            an array cannot be rebuilt (bad sparse matrix, bomb, too deep nesting).
    """
    _scan_opcodes(data, path)
    try:
        obj = RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
    except pickle.UnpicklingError as e:
        raise FormatError(path, f"unsafe or invalid pickle: {e}") from None
    except (EOFError, ValueError, TypeError, KeyError, AttributeError, IndexError, MemoryError, RecursionError,
            OverflowError) as e:
        raise FormatError(path, f"not a readable pickle ({type(e).__name__}: {e})") from None
    try:
        return _unwrap_top(obj)
    except _BadContent as e:
        where = f"{e.key!r}: " if e.key is not None else ""
        raise FormatError(path, f"a pickle with wrong contents: {where}{e}") from None


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------
def load_npz(path: str | os.PathLike, allow_objects: bool = True) -> dict:
    """Every member of an ``.npz`` archive, each read by :func:`read_npy` (sizes checked before
    anything is allocated); object arrays (pickled inside the archive) go through
    :class:`RestrictedUnpickler`, or are refused when ``allow_objects`` is false. Members that are
    not ``.npy`` arrays come back as ``bytes``, as ``numpy.load`` gives them.

    Raises:
        FormatError: naming the file (and the member): missing, empty, not a zip archive, a
            damaged member, a header promising more than the member holds.
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(path, "no such file")
    try:
        if path.stat().st_size == 0:
            raise FormatError(path, "file is empty (not an .npz archive)")
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise FormatError(path, f"not an .npz archive (not a zip file: {e})") from None
    except OSError as e:
        raise FormatError(path, f"cannot read file: {e.strerror or e}") from None
    out = {}
    with zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = info.filename
            key = name[:-4] if name.endswith(".npy") else name
            try:
                with zf.open(info) as f:
                    out[key] = read_npy(f, info.file_size, path, key, allow_objects=allow_objects,
                                        raw_if_not_npy=True)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError) as e:
                raise FormatError(path, f"member {name!r} of the archive is damaged or unreadable "
                                        f"({type(e).__name__}: {e})") from None
    return out


_READ_HEADER = getattr(np.lib.format, "_read_array_header", None) or getattr(
    getattr(np.lib, "_format_impl", None), "_read_array_header", None)  # version 3.0 (utf-8) headers


def _read_header(f, version: tuple[int, int]):
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(f)
    if _READ_HEADER is None:
        raise ValueError(f".npy format version {version} is not readable with this numpy")
    return _READ_HEADER(f, version)


def read_npy(f, size: int, path: str | os.PathLike, key: str | None = None, allow_objects: bool = False,
             raw_if_not_npy: bool = False):
    """One ``.npy`` array from the binary file object ``f`` holding ``size`` bytes in all.

    The header is read alone first; its shape x itemsize must fit in the bytes that follow it
    (else :class:`FormatError`, before anything is allocated), and the data is read in chunks, so
    memory never exceeds what the file really holds. Object arrays go through
    :class:`RestrictedUnpickler` when ``allow_objects``, else are refused. With
    ``raw_if_not_npy`` a member without the ``.npy`` magic comes back as ``bytes``.

    Returns:
        the array, shape and dtype as the header says.
    """
    what = f"array {key!r}" if key is not None else "array"
    magic = f.read(6)
    if magic != np.lib.format.MAGIC_PREFIX:
        if raw_if_not_npy:
            return magic + f.read()
        raise FormatError(path, f"{what}: not a .npy file (no numpy magic)")
    version = tuple(f.read(2))
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise FormatError(path, f"{what}: unsupported .npy format version {version}")
    try:
        shape, fortran, dtype = _read_header(f, version)
    except (ValueError, TypeError, SyntaxError, EOFError) as e:
        raise FormatError(path, f"{what}: bad .npy header ({e})") from None
    left = size - f.tell()
    if dtype.hasobject:
        if not allow_objects:
            raise FormatError(path, f"{what} holds pickled Python objects ({dtype}), not numbers")
        try:
            obj = safe_loads(f.read(max(left, 0)), path)
        except FormatError as e:
            raise FormatError(path, f"{what} (pickled objects): {e.problem}") from None
        return obj if isinstance(obj, np.ndarray) else np.asarray(obj)
    count = 1
    for s in shape:
        count *= int(s)
    nbytes = count * dtype.itemsize
    if dtype.itemsize == 0 and count:
        raise FormatError(path, f"{what}: zero-size dtype {dtype} for shape {shape}")
    if nbytes > left:
        raise FormatError(path, f"{what}: header promises shape {shape} of {dtype} ({nbytes} bytes), "
                                f"the file holds {max(left, 0)} bytes of data")
    buf = bytearray()
    chunk = 1 << 24
    while len(buf) < nbytes:
        part = f.read(min(chunk, nbytes - len(buf)))
        if not part:
            raise FormatError(path, f"{what}: data truncated: {len(buf)} of {nbytes} bytes")
        buf += part
    arr = np.frombuffer(buf, dtype=dtype, count=count)
    return arr.reshape(shape, order="F" if fortran else "C")


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
    check_model_arrays(path, out)
    return out


#: the standard body-model arrays: expected shape (``V`` vertices, ``J`` joints, ``None`` any size)
#: and whether they hold indices (integers) rather than finite real numbers
_MODEL_ARRAYS = {
    "v_template": (("V", 3), False),
    "shapedirs": (("V", 3, None), False),
    "posedirs": (("V", 3, None), False),
    "J_regressor": (("J", "V"), False),
    "weights": (("V", "J"), False),
    "kintree_table": ((2, "J"), True),
    "f": ((None, 3), True),
}


def check_model_arrays(path: str | os.PathLike, data: dict) -> None:
    """Check the standard arrays of a body model, where present (:data:`_MODEL_ARRAYS`): numeric,
    the expected number of dimensions, sizes that agree (``V`` from ``v_template``, ``J`` from
    ``J_regressor`` or ``kintree_table``), finite values, integer faces within ``[0, V)``.

    Raises:
        FormatError: naming the file and the array, with the shape expected.
    """
    sizes: dict[str, int] = {}
    for key, (spec, index) in _MODEL_ARRAYS.items():
        if key not in data:
            continue
        try:
            a = np.asarray(data[key])
        except (ValueError, TypeError) as e:
            raise FormatError(path, f"{key!r} is not an array ({e})") from None
        expected = "(" + ", ".join("*" if d is None else str(d) for d in spec) + ")"
        if a.dtype.kind not in "biuf":
            raise FormatError(path, f"{key!r} holds {a.dtype} values, expected numbers of shape {expected}")
        if a.ndim != len(spec):
            raise FormatError(path, f"{key!r} is {a.shape}, expected {expected}")
        for d, n in zip(spec, a.shape):
            if isinstance(d, int) and n != d:
                raise FormatError(path, f"{key!r} is {a.shape}, expected {expected}")
            if isinstance(d, str):
                if sizes.setdefault(d, n) != n:
                    raise FormatError(path, f"{key!r} is {a.shape}, expected {expected} with {d} = {sizes[d]}")
        if a.dtype.kind == "f":
            bad = ~np.isfinite(a)
            if bad.any():
                raise FormatError(path, f"{key!r} holds {int(bad.sum())} NaN or infinite value(s) "
                                        f"(first at index {tuple(int(i) for i in np.argwhere(bad)[0])})")
        if index and a.dtype.kind == "f" and a.size and not (a == np.round(a)).all():
            raise FormatError(path, f"{key!r} holds non-integer values; it is a table of indices")
    if "v_template" in data and sizes.get("V", 0) == 0:
        raise FormatError(path, "'v_template' holds no vertices")
    if "f" in data and "V" in sizes:
        f = np.asarray(data["f"])
        if f.size and (f.min() < 0 or f.max() >= sizes["V"]):
            raise FormatError(path, f"'f' indexes vertices {int(f.min())}..{int(f.max())}, the model has "
                                    f"{sizes['V']} (0..{sizes['V'] - 1})")


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
