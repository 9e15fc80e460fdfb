"""motion3d.io.mesh: the trimesh edge cases in ../shared/data/meshes are the test set."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from tests.security.bounds import refused_within_bounds
from motion3d.io import FormatError
from motion3d.io import mesh as mesh_io
from motion3d.points.sampling import sample_surface
from tests.conftest import require_data, assert_close


@pytest.fixture(scope="module")
def meshes_dir(data_dir):
    p = data_dir / "meshes"
    require_data(p)
    return p


# files with no triangle faces: empty, points only, wireframe, or garbage
NO_FACES = ["empty.obj", "empty.ply", "empty.stl", "face_in_group_name.obj", "points_ascii.ply",
            "points_ascii_with_lists.ply", "points_bin.ply", "points_emptyascii.ply", "points_emptyface.ply",
            "emptyIO/obj_empty.obj", "emptyIO/obj_points.obj", "emptyIO/obj_wireframe.obj",
            "emptyIO/ply_empty_ascii.ply", "emptyIO/ply_empty_bin.ply", "emptyIO/ply_empty_header.ply",
            "emptyIO/ply_points_ascii.ply", "emptyIO/ply_points_bin.ply", "emptyIO/stl_empty_ascii.stl",
            "emptyIO/stl_empty_bin.stl"]


def _all_files(meshes_dir):
    return sorted(p for p in meshes_dir.rglob("*") if p.is_file() and p.suffix.lower() in mesh_io.SUFFIXES)


def test_every_file_loads_or_raises_format_error(meshes_dir):
    """No silent empty result: each of the 68 files gives a valid mesh or a FormatError naming it."""
    files = _all_files(meshes_dir)
    assert len(files) >= 60
    loaded, failed = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p in files:
            try:
                m = mesh_io.load(p)
            except FormatError as e:
                assert str(p) in str(e)
                failed.append(p.relative_to(meshes_dir).as_posix())
                continue
            v, f = np.asarray(m.vertices), np.asarray(m.faces)
            assert len(f) > 0 and f.shape[1] == 3
            assert 0 <= f.min() and f.max() < len(v)
            assert np.isfinite(v).all()
            loaded.append(p.name)
    assert sorted(failed) == sorted(NO_FACES)
    assert len(loaded) == len(files) - len(NO_FACES)


@pytest.mark.parametrize("name,nv,nf", [("bunny.ply", 8171, 16301), ("fandisk.obj", 2877, 5750),
                                        ("ballA.off", 1900, 3796), ("teapot.stl", 2682, 894),
                                        ("fuze_ascii.ply", 664, 1000)])
def test_known_meshes(meshes_dir, name, nv, nf):
    m = mesh_io.load(meshes_dir / name)
    assert (len(m.vertices), len(m.faces)) == (nv, nf)


def test_scene_parts_are_merged(meshes_dir):
    m = mesh_io.load(meshes_dir / "two_objects.obj")
    assert len(m.faces) == 16
    m = mesh_io.load(meshes_dir / "multibody.stl")
    assert len(m.faces) == 32


def test_ascii_and_binary_ply_agree(meshes_dir):
    a, b = mesh_io.load(meshes_dir / "fuze_ascii.ply"), mesh_io.load(meshes_dir / "fuze.ply")
    assert_close(a.vertices, b.vertices, atol=1e-5)
    np.testing.assert_array_equal(a.faces, b.faces)


@pytest.mark.parametrize("suffix", [".off", ".obj", ".ply", ".stl", ".glb"])
def test_save_load_round_trip(meshes_dir, tmp_path, suffix):
    m = mesh_io.load(meshes_dir / "ballA.off")
    back = mesh_io.load(mesh_io.save(tmp_path / f"ball{suffix}", m))
    assert abs(back.area - m.area) < 1e-4 * m.area
    assert len(back.faces) == len(m.faces)


def test_bad_inputs(tmp_path, meshes_dir):
    bad_index = tmp_path / "bad_index.off"
    bad_index.write_text("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n")
    nan = tmp_path / "nan.obj"
    nan.write_text("v 0 0 0\nv 1 0 0\nv nan 1 0\nf 1 2 3\n")
    garbage = tmp_path / "garbage.stl"
    garbage.write_bytes(b"\x00" * 10)
    unknown = tmp_path / "mesh.xyz3"
    unknown.write_text("hello")
    for p in (bad_index, nan, garbage, unknown, tmp_path / "missing.obj"):
        with pytest.raises(FormatError) as e:
            mesh_io.load(p)
        assert str(p) in str(e.value)


def test_surface_sampling_is_area_weighted(meshes_dir):
    m = mesh_io.load(meshes_dir / "ballA.off")
    pts = sample_surface(m.vertices, m.faces, 20000, normals=True, seed=0)
    assert pts.shape == (20000, 6) and pts.dtype == np.float32
    # points lie on the surface: distance to the closest vertex is bounded by the edge length
    centre = m.vertices.mean(0)
    r = np.linalg.norm(pts[:, :3] - centre, axis=1)
    rv = np.linalg.norm(m.vertices - centre, axis=1)
    assert r.max() <= rv.max() + 1e-5
    # unit normals; area weighting: two triangles of areas 1 and 3 get 1/4 and 3/4 of the samples
    assert_close(np.linalg.norm(pts[:, 3:], axis=1), np.ones(20000), atol=1e-5)
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 2, 0], [10, 0, 0], [13, 0, 0], [10, 2, 0]], float)
    f = np.array([[0, 1, 2], [3, 4, 5]])
    p = sample_surface(v, f, 40000, seed=1)
    frac = (p[:, 0] >= 10).mean()
    assert abs(frac - 0.75) < 0.01
    # seeded
    assert_close(sample_surface(v, f, 10, seed=3), sample_surface(v, f, 10, seed=3))


def test_load_as_points(meshes_dir):
    pts = mesh_io.load_as_points(meshes_dir / "bunny.ply", 512, normals=True)
    assert pts.shape == (512, 6)


# ------------------------------------------------------------------ crafted broken meshes (issue 16)
def _ply_binary(vertices, faces) -> bytes:
    head = ("ply\nformat binary_little_endian 1.0\n"
            f"element vertex {len(vertices)}\nproperty float x\nproperty float y\nproperty float z\n"
            f"element face {len(faces)}\nproperty list uchar int vertex_indices\nend_header\n").encode()
    return head + np.asarray(vertices, "<f4").tobytes() + b"".join(
        b"\x03" + np.asarray(f, "<i4").tobytes() for f in faces)


_TRI = [[0, 0, 0], [1, 0, 0], [0, 1, 0]]

CRAFTED = {
    # name: (bytes, words the message must hold)
    "nan_vertex.ply": (_ply_binary([[0, 0, 0], [1, 0, 0], [np.nan, 1, 0]], [[0, 1, 2]]), "NaN or infinite"),
    "inf_vertex.ply": (_ply_binary([[0, 0, 0], [np.inf, 0, 0], [0, 1, 0]], [[0, 1, 2]]), "NaN or infinite"),
    "inf_vertex.off": (b"OFF\n3 1 0\n0 0 0\n1 0 0\ninf 1 0\n3 0 1 2\n", "NaN or infinite"),
    "nan_vertex.stl": (b"solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex nan 0 0\nvertex 0 1 0\n"
                       b"endloop\nendfacet\nendsolid x\n", "NaN or infinite"),
    "index_past_end.ply": (_ply_binary(_TRI, [[0, 1, 5]]), "out of range [0, 3): min 0, max 5"),
    "negative_index.ply": (_ply_binary(_TRI, [[0, 1, -7]]), "out of range [0, 3): min -7"),
    "index_past_end.obj": (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n", "out of bounds"),
    "negative_index.off": (b"OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 -5\n", "outside the range"),
    "no_faces.off": (b"OFF\n3 0 0\n0 0 0\n1 0 0\n0 1 0\n", "no triangle faces"),
    "no_faces.obj": (b"v 0 0 0\nv 1 0 0\nv 0 1 0\n", "no triangle faces"),
    "no_faces.ply": (_ply_binary(_TRI, []), "no triangle faces"),
    # counts in the header far beyond the data: refused, nothing that size allocated
    "vertex_count_bomb.off": (b"OFF\n3000000000 1 0\n0 0 0\n", "cannot parse OFF"),
    "vertex_count_bomb.ply": (_ply_binary(_TRI, [[0, 1, 2]]).replace(b"element vertex 3", b"element vertex 1000000000"),
                              "cannot parse PLY"),
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_broken_meshes_name_the_file_and_the_problem(tmp_path, name):
    data, words = CRAFTED[name]
    path = tmp_path / name
    path.write_bytes(data)
    import trimesh  # noqa: F401  (imported before measuring: its import is not the file's cost)

    err = refused_within_bounds(mesh_io.load, path)
    assert words in err.problem, err.problem
