"""BVH: every real file loads, round trips, matches an independent implementation (bvhio), and
malformed input fails with the file and line."""

import numpy as np
import pytest

from motion3d.io import FormatError, bvh
from tests.conftest import assert_close

SIMPLE = """HIERARCHY
ROOT Hips
{
\tOFFSET 0 0 0
\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
\tJOINT Spine
\t{
\t\tOFFSET 0 10 0
\t\tCHANNELS 3 Xrotation Yrotation Zrotation
\t\tEnd Site
\t\t{
\t\t\tOFFSET 0 5 0
\t\t}
\t}
\tJOINT Leg
\t{
\t\tOFFSET 2 -1e1 0
\t\tCHANNELS 6 Xposition Yposition Zposition Yrotation Zrotation Xrotation
\t\tEnd Site
\t\t{
\t\t\tOFFSET 0 -8 0
\t\t}
\t}
}
MOTION
Frames: 2
Frame Time: 0.04
1 2 3 0 0 90 90 0 0 2 -10 0 0 0 0
0 0 0 0 0 0 0 0 0 2.5 -1.0E+01 0 45 0 0
"""


def all_bvh(mocap_dir):
    files = sorted(mocap_dir.rglob("*.bvh"))
    assert len(files) >= 400, f"expected the ~421 BVH files of ../shared/data/mocap, found {len(files)}"
    return files


def test_every_bvh_in_shared_data_loads(mocap_dir):
    for f in all_bvh(mocap_dir):
        m = bvh.load(f)
        assert m.num_frames > 0 and np.isfinite(m.rotations).all(), f
        assert_close(np.linalg.norm(m.rotations, axis=-1), 1.0, atol=1e-9)
        if "bandai" in str(f):
            assert m.num_joints == 22 and m.fps == pytest.approx(30, rel=1e-3)
            assert all(len(c) == 6 for c in m.skeleton.channels)
            assert m.translations is not None
        else:
            assert m.num_joints == 31 and m.fps == pytest.approx(120, rel=1e-3)


def test_public_api_on_cmu(cmu_dir):
    m = bvh.load(cmu_dir / "01_01.bvh")
    assert m.num_frames == 2752 and m.fps == pytest.approx(1 / 0.0083333)
    assert m.skeleton.names[:3] == ["Hips", "LHipJoint", "LeftUpLeg"]
    assert m.skeleton.parents[0] == -1 and list(m.skeleton.parents[1:4]) == [0, 1, 2]
    assert_close(m.skeleton.offsets[2], [1.36306, -1.79463, 0.83929])
    assert m.rotations.shape == (2752, 31, 4) and m.root_positions.shape == (2752, 3)
    assert m.positions().shape == (2752, 31, 3)
    assert m.skeleton.rotation_order(0) == "ZYX"
    assert set(m.skeleton.end_sites) == set(m.skeleton.leaves())


def test_hand_computed_fixture(tmp_path):
    p = tmp_path / "simple.bvh"
    p.write_text(SIMPLE.replace("\n", "\r\n"))  # CRLF too
    m = bvh.load(p)
    assert m.skeleton.names == ["Hips", "Spine", "Leg"]
    assert m.fps == pytest.approx(25.0)
    assert m.skeleton.rotation_order(0) == "ZXY" and m.skeleton.rotation_order(1) == "XYZ"
    assert m.skeleton.rotation_order(2) == "YZX"
    pos = m.positions()
    # frame 0: root at (1,2,3) rotated by Ry(90) (ZXY order: 0, 0, 90) -> Spine offset (0,10,0) stays up
    assert_close(pos[0, 0], [1, 2, 3])
    assert_close(pos[0, 1], [1, 12, 3], atol=1e-12)
    # Leg has position channels (2, -10, 0) == offset; Ry(90) maps (2, -10, 0) -> (0, -10, -2)
    assert_close(pos[0, 2], [1, -8, 1], atol=1e-12)
    # frame 1: Leg translation replaced by (2.5, -10, 0)
    assert_close(pos[1, 2], [2.5, -10, 0], atol=1e-12)
    ends = m.end_site_positions()
    # Leg end site: Leg rotates Yrotation=45 (channels Y Z X); (0,-8,0) is on the Y axis -> unchanged
    assert_close(ends[2][1], [2.5, -18, 0], atol=1e-12)


def test_round_trip_real_files(tmp_path, mocap_dir, cmu_dir):
    files = [cmu_dir / "01_01.bvh", cmu_dir / "131_02.bvh",
             *sorted((mocap_dir / "bandai-namco-1").rglob("*.bvh"))[:3],
             *sorted((mocap_dir / "bandai-namco-2").rglob("*.bvh"))[:2]]
    for f in files:
        m = bvh.load(f)
        out = bvh.save(m, tmp_path / f.name)
        m2 = bvh.load(out)
        assert m.allclose(m2, atol=1e-5), f
        assert m2.skeleton.channels == m.skeleton.channels
        assert set(m2.skeleton.end_sites) == set(m.skeleton.end_sites)
        assert_close(m2.positions(), m.positions(), atol=1e-4 * m.skeleton.height())


def _bvhio_positions(path, frames):
    import bvhio

    root = bvhio.readAsHierarchy(str(path))
    joints = [j for j, _, _ in root.layout()]
    out = []
    for f in frames:
        root.loadPose(f)
        out.append([list(j.PositionWorld) for j in joints])
    return [j.Name for j in joints], np.array(out)


@pytest.mark.parametrize("rel", ["cmu/example.bvh", "cmu/131_01.bvh",
                                 "bandai-namco-1/data/dataset-1_walk_normal_001.bvh",
                                 "bandai-namco-2/data/dataset-2_run_active_001.bvh"])
def test_global_positions_match_bvhio(mocap_dir, rel):
    path = mocap_dir / rel
    m = bvh.load(path)
    frames = [0, 1, m.num_frames // 2, m.num_frames - 1]
    names, ref = _bvhio_positions(path, frames)
    idx = [m.skeleton.index(n) for n in names if n in m.skeleton.names]
    ref = ref[:, [k for k, n in enumerate(names) if n in m.skeleton.names]]
    assert len(idx) == m.num_joints
    assert_close(m.positions()[frames][:, idx], ref, atol=1e-3 * m.skeleton.height() / 100)


def test_zero_and_one_frame(tmp_path):
    head, _, _ = SIMPLE.partition("MOTION")
    zero = tmp_path / "zero.bvh"
    zero.write_text(head + "MOTION\nFrames: 0\nFrame Time: 0.0083333\n")
    m = bvh.load(zero)
    assert m.num_frames == 0 and m.positions().shape == (0, 3, 3) and m.fps == pytest.approx(120, rel=1e-4)
    one = tmp_path / "one.bvh"
    one.write_text(head + "MOTION\nFrames:\t1\nFrame Time:\t1\n" + "0 " * 15 + "\n")
    assert bvh.load(one).num_frames == 1
    for m in (bvh.load(zero), bvh.load(one)):
        assert bvh.load(bvh.save(m, tmp_path / "rt.bvh")).num_frames == m.num_frames


@pytest.mark.parametrize(
    "mutate, line, message",
    [
        (lambda s: s[: s.rindex("\n0 0 0")], 28, "truncated"),
        (lambda s: s.replace("1 2 3 0 0 90 90 0 0 2 -10 0 0 0 0", "1 2 3 0 0 90 90 0 0 2 -10 0 0 0"), 28, "has 14 values"),
        (lambda s: s.replace("2.5 -1.0E+01", "2.5 abc"), 29, "not a number"),
        (lambda s: s.replace("Xrotation Yrotation Zrotation", "Xrotation Yrotation Wrotation"), 9, "unknown channel"),
        (lambda s: s.replace("CHANNELS 3 X", "CHANNELS 4 X"), 9, "lists 3"),
        (lambda s: s.replace("OFFSET 0 10 0", "OFFSET 0 10"), 8, "OFFSET needs 3"),
        (lambda s: s[: s.index("MOTION")], None, "before the MOTION"),
        (lambda s: s.replace("Frames: 2", "Frames: 3"), 29, "truncated"),
        (lambda s: s.replace("Frames: 2", "Frames: 1"), 29, "more frames"),
        (lambda s: s.replace("HIERARCHY", "HIERARCHX"), 1, "not a BVH"),
        (lambda s: s.replace("Frame Time: 0.04", "Frame Time: 0"), None, "Frame Time must be positive"),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path, mutate, line, message):
    p = tmp_path / "bad.bvh"
    p.write_text(mutate(SIMPLE))
    with pytest.raises(FormatError, match=message) as err:
        bvh.load(p)
    assert str(p) in str(err.value)
    if line is not None:
        assert err.value.line == line, str(err.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        bvh.load(tmp_path / "nope.bvh")
    with pytest.raises(FormatError, match="directory"):
        bvh.load(tmp_path)


def test_save_widens_channels_when_needed(tmp_path):
    p = tmp_path / "s.bvh"
    p.write_text(SIMPLE)
    m = bvh.load(p)
    # give the Spine (no position channels) a moving translation: saving must add them
    tr = m.local_offsets().copy()
    tr[:, 1, 0] = [0.5, 1.5]
    m2 = m.replace(translations=tr)
    back = bvh.load(bvh.save(m2, tmp_path / "w.bvh"))
    assert back.skeleton.has_position_channels(1)
    assert_close(back.positions(), m2.positions(), atol=1e-5)


def test_scientific_notation_and_tabs(tmp_path):
    p = tmp_path / "sci.bvh"
    p.write_text(SIMPLE.replace("1 2 3 0 0 90", "1e0\t2.0E0  3 0 0 9e1"))
    m = bvh.load(p)
    assert_close(m.root_positions[0], [1, 2, 3])


def _iclone_bvh(root_offset_y: float = 105.0, channel_y=(5.0, 4.5, 5.5)) -> str:
    """An iClone Character Creator-like clip: the root ``CC_Base_Hip`` has OFFSET y=105 and a Y
    position channel around 5; the legs reach 108 below the hip (the lowest foot point is at
    y = root y - 108)."""
    frames = "\n".join(f"{0.5 * k} {y} {-0.25 * k} 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"
                       for k, y in enumerate(channel_y))
    return f"""HIERARCHY
ROOT CC_Base_Hip
{{
  OFFSET 0 {root_offset_y} 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT CC_Base_Spine01
  {{
    OFFSET 0 10 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    JOINT CC_Base_Head
    {{
      OFFSET 0 50 0
      CHANNELS 3 Zrotation Xrotation Yrotation
      End Site
      {{
        OFFSET 0 15 0
      }}
    }}
  }}
  JOINT CC_Base_L_Thigh
  {{
    OFFSET 10 -5 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    JOINT CC_Base_L_Calf
    {{
      OFFSET 0 -50 0
      CHANNELS 3 Zrotation Xrotation Yrotation
      JOINT CC_Base_L_Foot
      {{
        OFFSET 0 -48 0
        CHANNELS 3 Zrotation Xrotation Yrotation
        End Site
        {{
          OFFSET 0 -5 8
        }}
      }}
    }}
  }}
}}
MOTION
Frames: {len(channel_y)}
Frame Time: 0.0333333
{frames}
"""


def test_root_offset_readings_of_an_iclone_export(tmp_path):
    """Issue 17 item 4: the OFFSET y=105 of an iClone root is added under "add" and chosen by
    "auto" (feet on the floor, with a warning naming the file); "replace" keeps the old reading."""
    import warnings

    p = tmp_path / "cc_walk.bvh"
    p.write_text(_iclone_bvh())
    replaced = bvh.load(p, root_offset="replace")
    assert_close(replaced.root_positions[:, 1], [5.0, 4.5, 5.5])
    assert replaced.positions()[:, :, 1].min() == pytest.approx(4.5 - 103)  # the foot joint
    added = bvh.load(p, root_offset="add")
    assert_close(added.root_positions, [[0, 110, 0], [0.5, 109.5, -0.25], [1.0, 110.5, -0.5]])
    assert_close(added.positions() - replaced.positions(), np.broadcast_to([0, 105, 0], (3, 6, 3)))
    with pytest.warns(UserWarning, match=r"cc_walk\.bvh.*root_offset='add'.*lowest foot 1\.5 above y=0.*"
                                         r"'replace'.*103\.5 below y=0"):
        auto = bvh.load(p)
    assert auto.allclose(added, atol=1e-12)
    assert auto.skeleton.offsets[0, 1] == 105.0  # the skeleton is the file's
    # up="auto" (a pose test) agrees and chooses the same reading
    with pytest.warns(UserWarning, match="root_offset='add'"):
        assert bvh.load(p, up="auto").allclose(added, atol=1e-12)
    with pytest.raises(ValueError, match="root_offset must be one of"):
        bvh.load(p, root_offset="sum")
    # explicit readings never warn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bvh.load(p, root_offset="replace")
        bvh.load(p, root_offset="add")


def test_root_offset_auto_keeps_replace_unless_it_matters(tmp_path):
    import warnings

    # channels that already hold the hip height (a Blender export with a root OFFSET): replace wins, with a warning
    p = tmp_path / "blender.bvh"
    p.write_text(_iclone_bvh(channel_y=(108.0, 108.5, 109.0)))
    with pytest.warns(UserWarning, match=r"blender\.bvh.*read with root_offset='replace'"):
        m = bvh.load(p)
    assert m.allclose(bvh.load(p, root_offset="replace"), atol=0)
    # a small root OFFSET (3, far below a quarter of the body height): replace, silently, as before
    q = tmp_path / "small.bvh"
    q.write_text(_iclone_bvh(root_offset_y=3.0, channel_y=(108.0, 108.5, 109.0)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = bvh.load(q)
    assert_close(m.root_positions[:, 1], [108.0, 108.5, 109.0])


def test_real_files_load_exactly_as_before_under_auto(mocap_dir):
    """Every real file has a zero root OFFSET: "auto" and "add" are "replace", bit for bit, without a warning."""
    import warnings

    files = [mocap_dir / "bandai-namco-1" / "data" / "dataset-1_walk_normal_001.bvh",
             mocap_dir / "bandai-namco-2" / "data" / "dataset-2_run_active_001.bvh",
             mocap_dir / "cmu" / "01_01.bvh", mocap_dir / "cmu" / "131_02.bvh"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in files:
            before = bvh.load(f, root_offset="replace")
            for reading in ("auto", "add"):
                m = bvh.load(f, root_offset=reading)
                assert np.array_equal(m.root_positions, before.root_positions), f
                assert np.array_equal(m.rotations, before.rotations), f
                assert (m.translations is None) == (before.translations is None), f
                if m.translations is not None:
                    assert np.array_equal(m.translations, before.translations), f
