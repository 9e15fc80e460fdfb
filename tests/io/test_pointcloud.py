"""motion3d.io.pointcloud: PCD (ascii / binary / binary_compressed), PLY, XYZ, NPY/NPZ; errors."""
from __future__ import annotations

import numpy as np
import pytest

from motion3d.io import FormatError
from motion3d.io import pointcloud as pc
from tests.conftest import assert_close, require_data


@pytest.fixture(scope="module")
def chair_pcd(data_dir):
    return require_data(data_dir / "pointclouds/modelnet10/chair/train/chair_0001.pcd")


def test_load_real_binary_pcd(chair_pcd):
    pts, fields = pc.load_with_fields(chair_pcd)
    assert pts.shape == (1024, 3) and pts.dtype == np.float32
    assert fields == ["x", "y", "z"]
    # compare with a direct read of the binary body
    raw = chair_pcd.read_bytes()
    body = raw[raw.index(b"DATA binary\n") + len(b"DATA binary\n"):]
    assert_close(pts, np.frombuffer(body, "<f4").reshape(-1, 3))


def test_load_real_npy(data_dir):
    p = require_data(data_dir / "pointclouds/modelnet40/airplane/train/airplane_0001.npy")
    pts = pc.load(p)
    assert pts.shape == (1024, 3)
    assert np.linalg.norm(pts, axis=1).max() <= 1.0 + 1e-5


@pytest.mark.parametrize("mode", ["ascii", "binary", "binary_compressed"])
@pytest.mark.parametrize("cols", [3, 6])
def test_pcd_round_trip(tmp_path, chair_pcd, mode, cols):
    pts = pc.load(chair_pcd)
    if cols == 6:
        pts = np.concatenate([pts, np.random.default_rng(0).normal(size=pts.shape).astype(np.float32)], 1)
    path = pc.save(tmp_path / f"x_{mode}.pcd", pts, data=mode)
    back, fields = pc.load_with_fields(path)
    assert_close(back, pts, atol=0)
    assert fields[:3] == ["x", "y", "z"]


@pytest.mark.parametrize("suffix", [".ply", ".xyz", ".txt", ".csv", ".npy", ".npz"])
def test_round_trip_other_formats(tmp_path, chair_pcd, suffix):
    pts = pc.load(chair_pcd)
    back = pc.load(pc.save(tmp_path / f"x{suffix}", pts))
    assert_close(back, pts, atol=1e-6)


def test_lzf_compresses_and_inverts():
    rng = np.random.default_rng(0)
    data = (rng.integers(0, 4, 5000).astype(np.uint8).tobytes() + bytes(3000)
            + rng.integers(0, 256, 777).astype(np.uint8).tobytes())
    comp = pc.lzf_compress(data)
    assert len(comp) < len(data)
    assert pc.lzf_decompress(comp, len(data)) == data


def test_ply_points_with_normals(data_dir, tmp_path):
    pts = np.random.default_rng(1).normal(size=(50, 6)).astype(np.float32)
    path = pc.save(tmp_path / "n.ply", pts, fields=["x", "y", "z", "nx", "ny", "nz"])
    back, fields = pc.load_with_fields(path)
    assert fields == ["x", "y", "z", "nx", "ny", "nz"]
    assert_close(back, pts)


def test_real_ply_point_files(data_dir):
    p = require_data(data_dir / "meshes/points_bin.ply")
    pts = pc.load(p)
    assert pts.ndim == 2 and pts.shape[1] >= 3 and len(pts) > 0


def test_xyz_first_reordering(tmp_path):
    p = tmp_path / "cols.csv"
    p.write_text("intensity,z,y,x\n1,3,2,1\n2,6,5,4\n")
    pts, fields = pc.load_with_fields(p)
    assert fields == ["x", "y", "z", "intensity"]
    assert_close(pts, [[1, 2, 3, 1], [4, 5, 6, 2]])


# ----------------------------------------------------------------------------------------- errors
def _corrupt_cases(tmp_path, chair_pcd):
    raw = chair_pcd.read_bytes()
    cases = {
        "truncated.pcd": raw[: len(raw) // 2],
        "noheader.pcd": b"\x00\x01garbage" * 10,
        "badmode.pcd": raw.replace(b"DATA binary", b"DATA weird"),
        "badtype.pcd": raw.replace(b"TYPE F F F", b"TYPE Q Q Q"),
        "nodata.pcd": raw[: raw.index(b"DATA")],
        "asciicount.pcd": b"VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH 3\n"
                          b"HEIGHT 1\nPOINTS 3\nDATA ascii\n1 2 3\n4 5 6\n",
        "nan.pcd": b"VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH 2\n"
                   b"HEIGHT 1\nPOINTS 2\nDATA ascii\n1 2 3\nnan 5 6\n",
        "noxyz.pcd": b"VERSION 0.7\nFIELDS a b c\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH 1\n"
                     b"HEIGHT 1\nPOINTS 1\nDATA ascii\n1 2 3\n",
        "badlzf.pcd": raw.replace(b"DATA binary\n", b"DATA binary_compressed\n")[: raw.index(b"DATA") + 23]
                      + (100).to_bytes(4, "little") + (12288).to_bytes(4, "little") + bytes([255]) * 100,
        "ragged.xyz": b"1 2 3\n4 5\n",
        "text.xyz": b"1 2 3\n4 five 6\n",
        "empty.xyz": b"",
        "binary.txt": bytes(range(256)),
        "bad.npy": b"not a numpy file",
        "flat.npy": None,
        "unknown.abc": b"1 2 3\n",
        "empty.ply": b"ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nproperty float y\n"
                     b"property float z\nend_header\n",
    }
    out = {}
    for name, data in cases.items():
        p = tmp_path / name
        if data is None:
            np.save(p, np.zeros(10, np.float32))
        else:
            p.write_bytes(data)
        out[name] = p
    return out


def test_corrupt_files_raise_format_error_naming_the_file(tmp_path, chair_pcd):
    for name, p in _corrupt_cases(tmp_path, chair_pcd).items():
        with pytest.raises(FormatError) as e:
            pc.load(p)
        assert str(p) in str(e.value), name
        assert e.value.path == str(p)


def test_missing_file_raises_format_error(tmp_path):
    with pytest.raises(FormatError, match="missing.pcd"):
        pc.load(tmp_path / "missing.pcd")
