"""One registry from files to readers: extensions, and content checks where they are shared."""
import numpy as np
import pytest

from motion3d.io import FormatError, registry
from motion3d.io import pointcloud as pc_io


def _ply(path, faces: bool):
    lines = ["ply", "format ascii 1.0", "element vertex 3", "property float x", "property float y",
             "property float z"]
    if faces:
        lines += ["element face 1", "property list uchar int vertex_indices"]
    lines += ["end_header", "0 0 0", "1 0 0", "0 1 0"] + (["3 0 1 2"] if faces else [])
    path.write_text("\n".join(lines) + "\n")
    return path


def test_npy_joints_or_points_by_shape(tmp_path):
    joints = tmp_path / "walk.npy"
    np.save(joints, np.zeros((5, 22, 3), np.float32))
    points = tmp_path / "cloud.npy"
    np.save(points, np.ones((10, 3)))
    assert registry.detect(joints).name == "humanml3d"
    assert registry.detect(points).name == "pointcloud"
    assert registry.load(joints).shape == (5, 22, 3)
    assert registry.load(points).shape == (10, 3)
    # a kind settles the extension without reading (the reader then says what is wrong)
    assert registry.detect(tmp_path / "missing.npy", "points").name == "pointcloud"
    odd = tmp_path / "odd.npy"
    np.save(odd, np.zeros(4))
    with pytest.raises(FormatError, match="odd.npy.*none of the .npy formats.*HumanML3D"):
        registry.detect(odd)


def test_npz_amass_or_points_by_arrays(tmp_path):
    amass = tmp_path / "take.npz"
    np.savez(amass, poses=np.zeros((2, 156)), trans=np.zeros((2, 3)), mocap_framerate=120.0)
    cloud = tmp_path / "cloud.npz"
    np.savez(cloud, points=np.ones((8, 3)))
    assert registry.detect(amass).name == "amass"
    assert registry.detect(cloud).name == "pointcloud"
    assert registry.format_of(tmp_path / "never_written.npz") == "amass"  # motion kind: by extension
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(FormatError, match="junk.npz"):
        registry.detect(junk)


def test_ply_mesh_or_points_by_faces(tmp_path):
    mesh = _ply(tmp_path / "tri.ply", faces=True)
    cloud = _ply(tmp_path / "pts.ply", faces=False)
    assert registry.ply_has_faces(mesh) and not registry.ply_has_faces(cloud)
    assert registry.detect(mesh).kind == "mesh"
    assert registry.detect(cloud).kind == "points"
    assert registry.load(cloud).shape == (3, 3)


def test_unknown_and_missing(tmp_path):
    with pytest.raises(FormatError, match="unsupported file extension '.fbx'"):
        registry.detect(tmp_path / "a.fbx")
    with pytest.raises(FormatError, match="unknown motion file extension"):
        registry.format_of(tmp_path / "a.npy")
    with pytest.raises(FileNotFoundError):
        registry.detect(tmp_path / "absent.ply")
    with pytest.raises(FileNotFoundError):
        registry.load(tmp_path / "absent.bvh")
    with pytest.raises(ValueError, match="kind"):
        registry.detect(tmp_path / "a.bvh", "video")


def test_suffixes_and_motion_table():
    assert registry.MOTION_FORMATS == {".bvh": "bvh", ".amc": "amc", ".npz": "amass"}
    assert set(registry.suffixes("points")) == set(pc_io.SUFFIXES)
    assert ".npy" in registry.suffixes(("motion", "joints")) and ".ply" not in registry.suffixes("motion")


def test_save_picks_the_format_by_object(tmp_path):
    pts = np.random.default_rng(1).normal(size=(6, 3))
    registry.save(pts, tmp_path / "p.npy")
    assert registry.detect(tmp_path / "p.npy").name == "pointcloud"
    joints = np.zeros((3, 22, 3))
    registry.save(joints, tmp_path / "j.npy")
    assert registry.detect(tmp_path / "j.npy").name == "humanml3d"
    np.testing.assert_allclose(registry.load(tmp_path / "p.npy"), pts)
    with pytest.raises(FormatError, match="no writable format"):
        registry.save(pts, tmp_path / "x.npz", kinds="motion")


def test_npy_shape_reads_the_header_only(tmp_path):
    p = tmp_path / "big.npy"
    np.save(p, np.zeros((3, 22, 3)))
    assert registry.npy_shape(p) == (3, 22, 3)
    (tmp_path / "t.npy").write_text("hello")
    assert registry.npy_shape(tmp_path / "t.npy") is None
