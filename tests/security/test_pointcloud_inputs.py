"""Hostile and broken point-cloud files (issue 16): sizes are checked against the file before
anything is allocated, header counts must agree with the data, and every problem is a
FormatError naming the file. Each crafted file is built here."""
from __future__ import annotations

import io
import struct
import zipfile

import numpy as np
import pytest
import trimesh  # noqa: F401  (the PLY reader imports it on first use: not a cost of the file)

from tests.security.bounds import refused_within_bounds
from motion3d.io import pointcloud as pc

_HEADER = ("VERSION 0.7\nFIELDS {fields}\nSIZE {size}\nTYPE {type}\nCOUNT {count}\nWIDTH {width}\nHEIGHT {height}\n"
           "POINTS {points}\nDATA {mode}\n")


def pcd(body: bytes = b"1 2 3\n4 5 6\n", *, fields="x y z", size="4 4 4", type="F F F", count="1 1 1",
        width=2, height=1, points=2, mode="ascii") -> bytes:
    return _HEADER.format(fields=fields, size=size, type=type, count=count, width=width, height=height,
                          points=points, mode=mode).encode() + body


def npy_header(shape, descr="<f8") -> bytes:
    b = io.BytesIO()
    np.lib.format.write_array_header_1_0(b, {"descr": descr, "fortran_order": False, "shape": shape})
    return b.getvalue()


# ------------------------------------------------------------------------------------------ bombs
def test_binary_compressed_declaring_4gb_is_refused_before_allocating(tmp_path):
    npts = (4 * 2**30) // 12  # 4 GiB of xyz float32
    comp = b"\x00\x00"  # one literal byte
    path = tmp_path / "bomb.pcd"
    path.write_bytes(pcd(struct.pack("<II", len(comp), npts * 12) + comp, width=npts, points=npts,
                         mode="binary_compressed"))
    assert path.stat().st_size < 250
    err = refused_within_bounds(pc.load, path)
    assert "compressed" in err.problem and str(npts * 12) in err.problem


def test_binary_compressed_sizes_are_checked_against_the_bytes_present(tmp_path):
    # compressed size larger than the bytes there
    path = tmp_path / "short.pcd"
    path.write_bytes(pcd(struct.pack("<II", 1000, 24) + b"\x00" * 10, mode="binary_compressed"))
    assert "truncated" in refused_within_bounds(pc.load, path).problem
    # uncompressed size that is not POINTS x point size
    path = tmp_path / "usize.pcd"
    path.write_bytes(pcd(struct.pack("<II", 2, 48) + b"\x00\x00", mode="binary_compressed"))
    assert "48" in refused_within_bounds(pc.load, path).problem


def test_binary_points_bomb_is_refused(tmp_path):
    path = tmp_path / "bin.pcd"
    path.write_bytes(pcd(bytes(24), width=10**9, points=10**9, mode="binary"))
    assert "truncated" in refused_within_bounds(pc.load, path).problem


def test_huge_count_is_refused_before_listing_field_names(tmp_path):
    path = tmp_path / "count.pcd"
    path.write_bytes(pcd(bytes(24), count="1 1 1000000000", mode="binary"))
    assert "values per point" in refused_within_bounds(pc.load, path).problem


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_numpy_header_claiming_1e9_rows_is_refused(tmp_path, suffix):
    data = npy_header((10**9, 156)) + bytes(156 * 8)
    path = tmp_path / f"bomb{suffix}"
    if suffix == ".npy":
        path.write_bytes(data)
    else:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("points.npy", data)
    err = refused_within_bounds(pc.load, path)
    assert "(1000000000, 156)" in err.problem
    if suffix == ".npz":
        assert "'points'" in err.problem


def test_zip_member_lying_about_its_size_is_refused(tmp_path):
    """A deflated member whose directory entry claims 4 GiB and whose header promises 4 GB: the
    data is read in chunks and stops where the real data ends."""
    path = tmp_path / "lie.npz"
    real = npy_header((5 * 10**8, 1)) + bytes(4096)  # 4 GB promised, within the claimed size
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("points.npy", real)
    raw = bytearray(path.read_bytes())
    # patch the uncompressed size in the local header and the central directory to 4 GiB - 1
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        i = raw.index(sig)
        raw[i + off:i + off + 4] = struct.pack("<I", 2**32 - 1)
    path.write_bytes(bytes(raw))
    assert "truncated" in refused_within_bounds(pc.load, path).problem


# ---------------------------------------------------------------- header counts agree with data
def test_points_10_before_1024_binary_points_is_refused(tmp_path):
    path = tmp_path / "ten.pcd"
    path.write_bytes(pcd(np.zeros((1024, 3), "<f4").tobytes(), width=10, points=10, mode="binary"))
    err = refused_within_bounds(pc.load, path)
    assert "12288 bytes" in err.problem and "10 points" in err.problem


def test_points_10_before_1024_ascii_rows_is_refused(tmp_path):
    path = tmp_path / "ten.pcd"
    path.write_bytes(pcd(b"1 2 3\n" * 1024, width=10, points=10))
    assert "1024 rows" in refused_within_bounds(pc.load, path).problem


def test_width_times_height_must_equal_points(tmp_path):
    path = tmp_path / "wh.pcd"
    path.write_bytes(pcd(width=3, height=1, points=2))
    assert "WIDTH x HEIGHT" in refused_within_bounds(pc.load, path).problem


def test_ragged_ascii_rows_are_refused_with_the_line(tmp_path):
    path = tmp_path / "ragged.pcd"
    path.write_bytes(pcd(b"1 2 3 4\n5 6\n"))  # 6 numbers for 2 x 3, but rows of 4 and 2
    err = refused_within_bounds(pc.load, path)
    assert err.line == 10 and "4 values" in err.problem


def test_valid_ascii_with_blank_lines_and_crlf_still_loads(tmp_path):
    path = tmp_path / "ok.pcd"
    path.write_bytes(pcd(b"1 2 3\r\n\r\n4 5 6\r\n"))
    np.testing.assert_array_equal(pc.load(path), [[1, 2, 3], [4, 5, 6]])


def _ply(n_declared: int, rows: int, fmt: str = "ascii") -> bytes:
    head = (f"ply\nformat {fmt} 1.0\nelement vertex {n_declared}\nproperty float x\nproperty float y\n"
            "property float z\nend_header\n").encode()
    if fmt == "ascii":
        return head + b"1 2 3\n" * rows
    return head + np.ones((rows, 3), "<f4").tobytes()


@pytest.mark.parametrize("declared,rows,fmt", [(10**9, 1, "ascii"), (2, 3, "ascii"), (10, 1024, "ascii"),
                                               (10**9, 3, "binary_little_endian"), (2, 3, "binary_little_endian")])
def test_ply_vertex_count_must_agree_with_the_data(tmp_path, declared, rows, fmt):
    path = tmp_path / "points.ply"
    path.write_bytes(_ply(declared, rows, fmt))
    err = refused_within_bounds(pc.load, path)
    assert (f"{declared} rows" in err.problem) if fmt == "ascii" else ("length" in err.problem), err.problem


def test_ply_with_matching_counts_still_loads(tmp_path):
    path = tmp_path / "points.ply"
    path.write_bytes(_ply(3, 3))
    np.testing.assert_array_equal(pc.load(path), [[1, 2, 3]] * 3)


# ------------------------------------------------------------- raw exceptions -> FormatError
@pytest.mark.parametrize("name,data,expect", [
    ("count0", pcd(count="1 1 0"), "COUNT 0"),
    ("count_text", pcd(count="1 1 one"), "COUNT"),
    ("no_data_line", pcd()[:pcd().index(b"DATA")], "DATA"),
    ("data_without_mode", pcd(mode=""), "mode"),
    ("no_fields", b"VERSION 0.7\nSIZE 4\nPOINTS 1\nDATA ascii\n1 2 3\n", "FIELDS"),
    ("type_x", pcd(type="F F X"), "X4"),
    ("float16", pcd(size="4 4 2"), "F2"),
    ("int3", pcd(size="4 4 3", type="F F I"), "I3"),
    ("size_text", pcd(size="4 4 four"), "SIZE"),
    ("points_text", pcd(points="many"), "POINTS"),
    ("negative_points", pcd(width=-2, points=-2), "negative"),
    ("zero_points", pcd(b"", width=0, points=0), "no points"),
    ("truncated_binary", pcd(bytes(20), mode="binary"), "truncated"),
    ("lengths_differ", pcd(size="4 4"), "lengths differ"),
])
def test_broken_pcd_headers_raise_format_error(tmp_path, name, data, expect):
    path = tmp_path / f"{name}.pcd"
    path.write_bytes(data)
    err = refused_within_bounds(pc.load, path)
    assert expect in err.problem, err.problem


def test_pickled_object_array_in_npz_is_refused(tmp_path):
    path = tmp_path / "obj.npz"
    obj = np.empty(2, dtype=object)
    obj[:] = [1, 2]
    np.savez(path, points=np.zeros((4, 3)), fields=obj)
    assert "pickled Python objects" in refused_within_bounds(pc.load, path).problem


@pytest.mark.parametrize("data", [b"", b"not a zip at all", None])
def test_npz_that_is_not_an_archive(tmp_path, data):
    path = tmp_path / "x.npz"
    if data is None:  # an .npy under an .npz name
        with open(path, "wb") as f:
            np.save(f, np.zeros((4, 3)))
    else:
        path.write_bytes(data)
    refused_within_bounds(pc.load, path)
