"""Point-cloud files: PCD v0.7 (ascii, binary, binary_compressed), PLY, XYZ/TXT/CSV, NPY/NPZ.

``load(path)`` returns a float32 array of shape ``(N, 3 + C)``: xyz first, then any extra scalar
fields in file order (normals, intensity, colour...). ``load_with_fields`` also returns the field
names. ``save(path, points, fields=None)`` writes the same formats back (symmetric with ``load``).

Every problem (unknown extension, truncated data, wrong counts, NaNs in xyz, missing x/y/z)
raises :class:`motion3d.io.FormatError` naming the file. Sizes a header declares are checked
against the bytes present before anything is allocated (PCD ``POINTS`` x point size against the
binary data, ``binary_compressed`` sizes against the compressed bytes and LZF's best ratio, ``.npy``
headers against the file or archive member), and header counts must agree with the data exactly
(PCD ``POINTS``, ``WIDTH x HEIGHT``, ASCII rows and values per row; ASCII PLY element rows).
"""
from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Sequence

import numpy as np

from motion3d.io import FormatError
from motion3d.io.smpl_pkl import load_npz, read_npy

SUFFIXES = (".pcd", ".ply", ".xyz", ".txt", ".pts", ".csv", ".npy", ".npz")

_PCD_TYPES = {("F", 4): "<f4", ("F", 8): "<f8", ("I", 1): "<i1", ("I", 2): "<i2", ("I", 4): "<i4",
              ("I", 8): "<i8", ("U", 1): "<u1", ("U", 2): "<u2", ("U", 4): "<u4", ("U", 8): "<u8"}


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------
def load(path: str | os.PathLike) -> np.ndarray:
    """Read a point cloud. Returns ``(N, 3 + C)`` float32, xyz first."""
    return load_with_fields(path)[0]


def load_with_fields(path: str | os.PathLike) -> tuple[np.ndarray, list[str]]:
    """Read a point cloud. Returns ``(points (N, 3 + C) float32, field names (3 + C))``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise FormatError(path, f"unknown point-cloud format {suffix!r} (supported: {', '.join(SUFFIXES)})")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise FormatError(path, f"cannot read file: {e.strerror or e}") from e
    if suffix == ".pcd":
        pts, fields = _load_pcd(path, raw)
    elif suffix == ".ply":
        pts, fields = _load_ply(path, raw)
    elif suffix in (".npy", ".npz"):
        pts, fields = _load_numpy(path, suffix)
    else:
        pts, fields = _load_text(path, raw)
    return _finish(path, pts, fields)


def save(path: str | os.PathLike, points, fields: Sequence[str] | None = None,
         data: str = "binary") -> Path:
    """Write ``points`` ``(N, 3 + C)`` to ``path``; the format follows the suffix.

    ``fields`` names the columns (default ``x y z`` then ``f0, f1, ...``; ``nx ny nz`` when C == 3).
    ``data`` picks the PCD encoding: ``"ascii"``, ``"binary"`` or ``"binary_compressed"``.
    """
    path = Path(path)
    pts = np.asarray(points, dtype=np.float32)
    if pts.ndim != 2 or pts.shape[1] < 3:
        raise ValueError(f"points must be (N, 3 + C), got {pts.shape}")
    fields = list(fields) if fields is not None else _default_fields(pts.shape[1])
    if len(fields) != pts.shape[1]:
        raise ValueError(f"{len(fields)} field names for {pts.shape[1]} columns")
    suffix = path.suffix.lower()
    if suffix == ".pcd":
        _save_pcd(path, pts, fields, data)
    elif suffix == ".ply":
        _save_ply(path, pts, fields)
    elif suffix == ".npy":
        np.save(path, pts)
    elif suffix == ".npz":
        np.savez(path, points=pts, fields=np.array(fields))
    elif suffix in (".xyz", ".txt", ".pts"):
        np.savetxt(path, pts, fmt="%.9g")
    elif suffix == ".csv":
        np.savetxt(path, pts, fmt="%.9g", delimiter=",", header=",".join(fields), comments="")
    else:
        raise FormatError(path, f"unknown point-cloud format {suffix!r} (supported: {', '.join(SUFFIXES)})")
    return path


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _default_fields(ncols: int) -> list[str]:
    if ncols == 6:
        return ["x", "y", "z", "nx", "ny", "nz"]
    return ["x", "y", "z"] + [f"f{i}" for i in range(ncols - 3)]


def _finish(path: Path, pts: np.ndarray, fields: list[str]) -> tuple[np.ndarray, list[str]]:
    if pts.ndim != 2 or pts.shape[1] < 3:
        raise FormatError(path, f"expected an (N, 3 + C) array of points, got shape {pts.shape}")
    if pts.shape[0] == 0:
        raise FormatError(path, "file holds no points")
    pts = np.ascontiguousarray(pts, dtype=np.float32)
    if not np.isfinite(pts[:, :3]).all():
        bad = int((~np.isfinite(pts[:, :3])).any(axis=1).sum())
        raise FormatError(path, f"{bad} point(s) with NaN or infinite coordinates")
    return pts, fields


def _reorder_xyz_first(path: Path, cols: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Put the x, y, z columns first, keep the others in file order."""
    lower = [n.lower() for n in names]
    if not all(a in lower for a in ("x", "y", "z")):
        raise FormatError(path, f"fields {names} do not include x, y and z")
    idx = [lower.index("x"), lower.index("y"), lower.index("z")]
    rest = [i for i in range(len(names)) if i not in idx]
    order = idx + rest
    return cols[:, order], [names[i] for i in order]


# --------------------------------------------------------------------------------------------
# PCD
# --------------------------------------------------------------------------------------------
def _parse_pcd_header(path: Path, raw: bytes) -> tuple[dict, int]:
    header: dict[str, list[str]] = {}
    pos = 0
    line_no = 0
    while True:
        end = raw.find(b"\n", pos)
        if end < 0:
            raise FormatError(path, "PCD header ends before the DATA line", line=line_no + 1)
        line_no += 1
        try:
            line = raw[pos:end].decode("ascii").strip()
        except UnicodeDecodeError:
            raise FormatError(path, "PCD header is not ASCII text", line=line_no) from None
        pos = end + 1
        if not line or line.startswith("#"):
            continue
        key, *vals = line.split()
        header[key.upper()] = vals
        if key.upper() == "DATA":
            header["_line"] = [str(line_no)]
            return header, pos
        if line_no > 64:
            raise FormatError(path, "no DATA line within the first 64 lines: not a PCD file", line=line_no)


#: LibLZF's best ratio: a 3-byte back-reference token copies at most 264 bytes
_LZF_MAX_RATIO = 88
#: most values (sum of COUNT) a PCD point may carry (large descriptors: ESF 640, SHOT 1344)
MAX_VALUES_PER_POINT = 1 << 16
_WHITESPACE = np.frombuffer(b" \t\r\n\f\v", np.uint8)


def _ascii_rows(body: bytes) -> tuple[np.ndarray, np.ndarray]:
    """The non-blank lines of ASCII data, vectorised: ``(line index (R,), values on it (R,))``."""
    b = np.frombuffer(body, np.uint8)
    if b.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    space = np.isin(b, _WHITESPACE)
    start = ~space
    start[1:] &= space[:-1]  # a value starts after whitespace (or at the beginning)
    line = np.cumsum(b == 10)
    per_line = np.bincount(line[start], minlength=int(line[-1]) + 1)
    lines = np.flatnonzero(per_line)
    return lines, per_line[lines]


def _pcd_int(path: Path, key: str, vals: list[str], what: str) -> list[int]:
    try:
        return [int(v) for v in vals]
    except ValueError:
        raise FormatError(path, f"PCD {key} holds {' '.join(vals)!r}, expected {what}") from None


def _load_pcd(path: Path, raw: bytes) -> tuple[np.ndarray, list[str]]:
    """PCD v0.7. The header's sizes (POINTS, WIDTH x HEIGHT, SIZE x COUNT) are checked against
    the bytes present before anything is allocated, and must agree with the data exactly."""
    if not raw.lstrip().startswith((b"#", b"VERSION", b"FIELDS")):
        raise FormatError(path, "not a PCD file (no PCD header)", line=1)
    header, offset = _parse_pcd_header(path, raw)
    if "FIELDS" not in header or not header["FIELDS"]:
        raise FormatError(path, "PCD header has no FIELDS line (or an empty one)")
    if not header["DATA"]:
        raise FormatError(path, "PCD DATA line names no mode (ascii, binary, binary_compressed)",
                          line=int(header["_line"][0]))
    fields = header["FIELDS"]
    n = len(fields)
    sizes = _pcd_int(path, "SIZE", header.get("SIZE", ["4"] * n), "byte sizes")
    types = header.get("TYPE", ["F"] * n)
    counts = _pcd_int(path, "COUNT", header.get("COUNT", ["1"] * n), "element counts")
    if not (len(sizes) == len(types) == len(counts) == n):
        raise FormatError(path, f"PCD header FIELDS/SIZE/TYPE/COUNT lengths differ "
                                f"({n}/{len(sizes)}/{len(types)}/{len(counts)})")
    width = height = None
    if "WIDTH" in header:
        (width,) = _pcd_int(path, "WIDTH", header["WIDTH"][:1] or ["?"], "a point count")
        (height,) = _pcd_int(path, "HEIGHT", header.get("HEIGHT", ["1"])[:1] or ["?"], "a row count")
    if "POINTS" in header:
        (npts,) = _pcd_int(path, "POINTS", header["POINTS"][:1] or ["?"], "a point count")
    elif width is not None:
        npts = width * height
    else:
        raise FormatError(path, "PCD header has neither POINTS nor WIDTH")
    if npts < 0 or (width is not None and (width < 0 or height < 0)):
        raise FormatError(path, f"negative point count (POINTS {npts}, WIDTH {width}, HEIGHT {height})")
    if width is not None and width * height != npts:
        raise FormatError(path, f"PCD header disagrees with itself: WIDTH x HEIGHT = {width} x {height} "
                                f"= {width * height}, POINTS {npts}")
    if npts == 0:
        raise FormatError(path, "file holds no points (POINTS 0)")
    for f, c in zip(fields, counts):
        if c < 1:
            raise FormatError(path, f"PCD COUNT {c} for field {f!r}: every field has at least one element")
    body = raw[offset:]
    width_values = sum(counts)
    if width_values > MAX_VALUES_PER_POINT:
        raise FormatError(path, f"PCD header declares {width_values} values per point (COUNT), more than "
                                f"{MAX_VALUES_PER_POINT}")
    for f, s, t in zip(fields, sizes, types):
        if (t.upper(), s) not in _PCD_TYPES:
            raise FormatError(path, f"unsupported PCD field type {t}{s} for {f!r} "
                                    "(TYPE F with SIZE 4 or 8, I/U with SIZE 1, 2, 4 or 8)")
    itemsize = sum(s * c for s, c in zip(sizes, counts))
    need = npts * itemsize
    mode = header["DATA"][0].lower()
    # the data must be there before anything the size of the header's promise is built
    if mode == "ascii" and npts * width_values > len(body):  # a value takes two characters ("0 ")
        raise FormatError(path, f"PCD header promises {npts} points x {width_values} values, the ascii "
                                f"data holds {len(body)} bytes")
    if mode == "binary" and len(body) != need:
        state = "truncated" if len(body) < need else "longer than the header says"
        raise FormatError(path, f"PCD binary data {state}: {len(body)} bytes, the header promises "
                                f"{npts} points x {itemsize} bytes = {need}")
    dtypes = []
    names: list[str] = []
    for f, s, t, c in zip(fields, sizes, types, counts):
        dtypes.append((f, _PCD_TYPES[(t.upper(), s)], (c,) if c > 1 else ()))
        names += [f] if c == 1 else [f"{f}{i}" for i in range(c)]
    rec = np.dtype([(f"_{i}", d, shp) for i, (_, d, shp) in enumerate(dtypes)])
    if mode == "ascii":
        line_of_row, row_width = _ascii_rows(body)
        if len(row_width) != npts:
            raise FormatError(path, f"PCD header promises {npts} points (POINTS), the ascii data holds "
                                    f"{len(row_width)} rows")
        bad = np.flatnonzero(row_width != width_values)
        if len(bad):
            raise FormatError(path, f"{row_width[bad[0]]} values on this row, the header declares {width_values}",
                              line=int(header["_line"][0]) + 1 + int(line_of_row[bad[0]]))
        text = body.decode("ascii", errors="replace")
        try:
            vals = np.array(text.split(), dtype=np.float64)
        except ValueError as e:
            raise FormatError(path, f"non-numeric value in PCD ascii data ({e})") from None
        if vals.size != npts * width_values:
            raise FormatError(path, f"PCD ascii data holds {vals.size} numbers, header promises "
                                    f"{npts} x {width_values}")
        cols = vals.reshape(npts, width_values)
    elif mode == "binary":
        arr = np.frombuffer(body, dtype=rec, count=npts)
        cols = _structured_to_cols(arr, counts)
    elif mode == "binary_compressed":
        if len(body) < 8:
            raise FormatError(path, "PCD binary_compressed data truncated (no size words)")
        csize, usize = struct.unpack("<II", body[:8])
        if usize != need:
            raise FormatError(path, f"PCD binary_compressed: uncompressed size {usize} != "
                                    f"{npts} points x {rec.itemsize} bytes = {need}")
        if len(body) < 8 + csize:
            raise FormatError(path, f"PCD binary_compressed data truncated: {len(body) - 8} of {csize} bytes")
        if usize > _LZF_MAX_RATIO * csize:
            raise FormatError(path, f"PCD binary_compressed: {csize} compressed bytes cannot hold {usize} "
                                    f"(LZF expands at most {_LZF_MAX_RATIO}x)")
        try:
            buf = lzf_decompress(body[8:8 + csize], usize)
        except ValueError as e:
            raise FormatError(path, f"PCD binary_compressed data corrupt: {e}") from None
        # column-major ("struct of arrays") layout: all of field 0, then all of field 1, ...
        cols_list = []
        off = 0
        for (_, d, shp), c in zip(dtypes, counts):
            dt = np.dtype(d)
            nbytes = npts * c * dt.itemsize
            cols_list.append(np.frombuffer(buf, dtype=dt, count=npts * c, offset=off)
                             .reshape(npts, c).astype(np.float64))
            off += nbytes
        cols = np.concatenate(cols_list, axis=1)
    else:
        raise FormatError(path, f"unknown PCD DATA mode {mode!r}", line=int(header["_line"][0]))
    return _reorder_xyz_first(path, cols, names)


def _structured_to_cols(arr: np.ndarray, counts: list[int]) -> np.ndarray:
    cols = []
    for i, c in enumerate(counts):
        a = arr[f"_{i}"].astype(np.float64)
        cols.append(a.reshape(len(arr), c))
    return np.concatenate(cols, axis=1)


def _save_pcd(path: Path, pts: np.ndarray, fields: list[str], data: str) -> None:
    n, c = pts.shape
    if data not in ("ascii", "binary", "binary_compressed"):
        raise ValueError(f"data must be ascii, binary or binary_compressed, got {data!r}")
    header = ("# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\n"
              f"FIELDS {' '.join(fields)}\nSIZE {' '.join(['4'] * c)}\nTYPE {' '.join(['F'] * c)}\n"
              f"COUNT {' '.join(['1'] * c)}\nWIDTH {n}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\n"
              f"POINTS {n}\nDATA {data}\n").encode("ascii")
    with open(path, "wb") as f:
        f.write(header)
        if data == "ascii":
            np.savetxt(f, pts, fmt="%.9g")
        elif data == "binary":
            f.write(pts.astype("<f4").tobytes())
        else:
            raw = np.ascontiguousarray(pts.astype("<f4").T).tobytes()  # struct of arrays
            comp = lzf_compress(raw)
            f.write(struct.pack("<II", len(comp), len(raw)))
            f.write(comp)


def lzf_decompress(data: bytes, out_len: int) -> bytes:
    """Decompress LibLZF data (the PCD ``binary_compressed`` codec) into ``out_len`` bytes.

    Raises ``ValueError`` on corrupt input. The loop runs over LZF tokens (literal runs and
    back-references), not over points.
    """
    out = bytearray(out_len)
    ip = op = 0
    n = len(data)
    while ip < n:
        ctrl = data[ip]
        ip += 1
        if ctrl < 32:  # literal run of ctrl + 1 bytes
            length = ctrl + 1
            if ip + length > n or op + length > out_len:
                raise ValueError("literal run past the end of the buffer")
            out[op:op + length] = data[ip:ip + length]
            ip += length
            op += length
        else:  # back-reference
            length = ctrl >> 5
            if length == 7:
                if ip >= n:
                    raise ValueError("truncated back-reference")
                length += data[ip]
                ip += 1
            if ip >= n:
                raise ValueError("truncated back-reference")
            ref = op - ((ctrl & 0x1F) << 8) - data[ip] - 1
            ip += 1
            length += 2
            if ref < 0:
                raise ValueError("back-reference before the start of the output")
            if op + length > out_len:
                raise ValueError("back-reference past the end of the output")
            if ref + length <= op:  # non-overlapping: one slice copy
                out[op:op + length] = out[ref:ref + length]
            else:  # overlapping copy repeats a short pattern
                for k in range(length):
                    out[op + k] = out[ref + k]
            op += length
    if op != out_len:
        raise ValueError(f"decompressed {op} bytes, expected {out_len}")
    return bytes(out)


def lzf_compress(data: bytes) -> bytes:
    """Compress with LibLZF's format (greedy, 3-byte hash matches); ``lzf_decompress`` inverts it."""
    n = len(data)
    out = bytearray()
    table: dict[bytes, int] = {}
    lit_start = 0
    ip = 0

    def flush_literals(end: int) -> None:
        s = lit_start
        while s < end:
            run = min(32, end - s)
            out.append(run - 1)
            out.extend(data[s:s + run])
            s += run

    while ip + 2 < n:
        key = data[ip:ip + 3]
        ref = table.get(key)
        table[key] = ip
        off = ip - ref - 1 if ref is not None else -1
        if ref is not None and 0 <= off < 8192:
            length = 3
            max_len = min(264, n - ip)
            while length < max_len and data[ref + length] == data[ip + length]:
                length += 1
            flush_literals(ip)
            enc = length - 2
            if enc < 7:
                out.append((enc << 5) | (off >> 8))
            else:
                out.append((7 << 5) | (off >> 8))
                out.append(enc - 7)
            out.append(off & 0xFF)
            ip += length
            lit_start = ip
        else:
            ip += 1
    flush_literals(n)
    return bytes(out)


# --------------------------------------------------------------------------------------------
# PLY (vertices only; faces are ignored here: use motion3d.io.mesh for meshes)
# --------------------------------------------------------------------------------------------
def _ply_header(path: Path, raw: bytes) -> tuple[str, list[tuple[str, int]], int]:
    """``(format, [(element, count)...], offset of the data)`` of a PLY header."""
    end = raw.find(b"end_header", 0, 1 << 16)
    if end < 0:
        raise FormatError(path, "PLY header without 'end_header' in its first 64 KiB")
    nl = raw.find(b"\n", end)
    offset = len(raw) if nl < 0 else nl + 1
    fmt = ""
    elements: list[tuple[str, int]] = []
    for line_no, line in enumerate(raw[:end].decode("ascii", errors="replace").splitlines(), start=1):
        parts = line.split()
        if parts[:1] == ["format"] and len(parts) >= 2:
            fmt = parts[1]
        elif parts[:1] == ["element"]:
            if len(parts) != 3 or not parts[2].isdigit():
                raise FormatError(path, f"PLY element line {line.strip()!r}: expected 'element NAME COUNT'",
                                  line=line_no)
            elements.append((parts[1], int(parts[2])))
    return fmt, elements, offset


def _load_ply(path: Path, raw: bytes) -> tuple[np.ndarray, list[str]]:
    """PLY vertices (and normals) through trimesh; the header's element counts must agree with the
    data (ascii: one row per element, checked here; binary: trimesh checks the length)."""
    import trimesh

    if not raw.startswith(b"ply"):
        raise FormatError(path, "not a PLY file (no 'ply' magic)", line=1)
    fmt, elements, offset = _ply_header(path, raw)
    if fmt == "ascii":
        rows = len(_ascii_rows(raw[offset:])[0])
        promised = sum(c for _, c in elements)
        if rows != promised:
            raise FormatError(path, f"PLY header promises {promised} rows ("
                                    + ", ".join(f"{c} {n}" for n, c in elements) + f"), the ascii data holds {rows}")
    try:
        geom = trimesh.load(path, process=False, force=None)
    except Exception as e:  # trimesh raises many types on malformed input
        raise FormatError(path, f"cannot parse PLY: {type(e).__name__}: {e}") from None
    verts = getattr(geom, "vertices", None)
    if verts is None or len(verts) == 0:
        raise FormatError(path, "PLY file holds no vertices")
    cols = [np.asarray(verts, dtype=np.float64)]
    names = ["x", "y", "z"]
    normals = _ply_vertex_normals(geom)
    if normals is not None:
        cols.append(normals)
        names += ["nx", "ny", "nz"]
    return np.concatenate(cols, axis=1), names


def _ply_vertex_normals(geom) -> np.ndarray | None:
    meta = getattr(geom, "metadata", {}) or {}
    attrs = meta.get("_ply_raw", {}).get("vertex", {}).get("data") if isinstance(meta, dict) else None
    if attrs is not None and hasattr(attrs, "dtype") and attrs.dtype.names and \
            all(k in attrs.dtype.names for k in ("nx", "ny", "nz")):
        return np.stack([attrs["nx"], attrs["ny"], attrs["nz"]], axis=1).astype(np.float64).reshape(-1, 3)
    return None


def _save_ply(path: Path, pts: np.ndarray, fields: list[str]) -> None:
    n = len(pts)
    props = "".join(f"property float {f}\n" for f in fields)
    header = f"ply\nformat binary_little_endian 1.0\nelement vertex {n}\n{props}end_header\n"
    with open(path, "wb") as f:
        f.write(header.encode("ascii"))
        f.write(pts.astype("<f4").tobytes())


# --------------------------------------------------------------------------------------------
# numpy and text
# --------------------------------------------------------------------------------------------
def _load_numpy(path: Path, suffix: str) -> tuple[np.ndarray, list[str]]:
    """An ``.npy`` array, or the ``points``/``xyz``/``pos``/``data`` (else first) member of an
    ``.npz`` with optional ``fields`` names. Headers are read first and their shape x itemsize
    checked against the bytes present (:func:`motion3d.io.smpl_pkl.read_npy`); pickled object
    arrays are refused."""
    if suffix == ".npy":
        try:
            with open(path, "rb") as f:
                arr = read_npy(f, os.fstat(f.fileno()).st_size, path)
        except OSError as e:
            raise FormatError(path, f"cannot read file: {e.strerror or e}") from None
        names = None
    else:
        members = load_npz(path, allow_objects=False)
        arrays = {k: v for k, v in members.items() if isinstance(v, np.ndarray)}
        key = next((k for k in ("points", "xyz", "pos", "data") if k in arrays),
                   next((k for k in arrays if k != "fields"), None))
        if key is None:
            raise FormatError(path, "NPZ archive holds no point array")
        arr = arrays[key]
        names = None
        if "fields" in arrays:
            f = arrays["fields"]
            if f.ndim != 1 or f.dtype.kind not in "SU":
                raise FormatError(path, f"'fields' is {f.dtype} of shape {f.shape}, expected a list of names")
            names = [s.decode("latin1") if isinstance(s, bytes) else str(s) for s in f.tolist()]
    if not np.issubdtype(arr.dtype, np.number):
        raise FormatError(path, f"array dtype {arr.dtype} is not numeric")
    if arr.ndim != 2 or arr.shape[1] < 3:
        raise FormatError(path, f"expected an (N, 3 + C) array, got shape {arr.shape}")
    if names is not None and len(names) != arr.shape[1]:
        raise FormatError(path, f"{len(names)} field names for {arr.shape[1]} columns")
    return arr.astype(np.float64), names or _default_fields(arr.shape[1])


def _load_text(path: Path, raw: bytes) -> tuple[np.ndarray, list[str]]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(path, "text point cloud is not UTF-8 (binary file with a text suffix?)") from None
    # fast path: a plain numeric table (one vectorised parse); anything else takes the line loop,
    # which finds header lines and names the offending line
    first = text.lstrip().split("\n", 1)[0]
    if "," not in text and ";" not in text and "#" not in text and "/" not in text and first.strip():
        try:
            vals = np.array(text.split(), dtype=np.float64)
            width = len(first.split())
            lines = [ln for ln in text.splitlines() if ln.strip()]
            if width and vals.size == width * len(lines):
                return vals.reshape(len(lines), width), _default_fields(width)
        except ValueError:
            pass
    rows = []
    names = None
    width = None
    for line_no, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith(("#", "//")):
            continue
        parts = s.replace(",", " ").replace(";", " ").split()
        try:
            vals = [float(p) for p in parts]
        except ValueError:
            if not rows and names is None:  # a header line of column names
                names = parts
                continue
            raise FormatError(path, f"non-numeric value in {s[:40]!r}", line=line_no) from None
        if width is None:
            width = len(vals)
        elif len(vals) != width:
            raise FormatError(path, f"{len(vals)} values on this line, {width} on the first", line=line_no)
        rows.append(vals)
    if not rows:
        raise FormatError(path, "file holds no points")
    arr = np.asarray(rows, dtype=np.float64)
    if names is not None and len(names) == arr.shape[1]:
        return _reorder_xyz_first(path, arr, names)
    return arr, _default_fields(arr.shape[1])


__all__ = ["load", "load_with_fields", "save", "lzf_compress", "lzf_decompress", "SUFFIXES"]
