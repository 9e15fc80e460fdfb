import numpy as np
import pytest

from motion3d.render.camera import ViewCamera, follow_targets, look_at_extrinsic, smooth_path, view_basis
from motion3d.render.clip import Clip, Framing, as_clips, grid_segments, nice_step, timeline
from tests.conftest import assert_close
from tests.render.helpers import PARENTS, walking_clip


def test_view_basis_orthonormal_and_front_view():
    B = view_basis(0.0, 0.0)
    assert_close(B, np.eye(3), atol=1e-12)
    B = view_basis(37.0, 25.0)
    assert_close(B @ B.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(B) > 0


def test_project_centre_and_up():
    cam = ViewCamera(0.0, 0.0, distance=10.0, scale=2.0)
    p = cam.project(np.array([[0, 0, 0], [0, 1, 0], [1, 0, 0]], float), np.zeros(3), 200, 100)
    assert_close(p[0, :2], [100, 50])
    assert_close(p[1, :2], [100, 0])  # one unit up = half the height (scale 2 fills the image)
    assert_close(p[2, :2], [150, 50])


def test_look_at_extrinsic_maps_target_to_optical_axis():
    ext = look_at_extrinsic([3.0, 2.0, 5.0], [0.0, 1.0, 0.0])
    cam = ext @ np.array([0.0, 1.0, 0.0, 1.0])
    assert_close(cam[:2], [0, 0], atol=1e-12)
    assert cam[2] == pytest.approx(np.linalg.norm([3, 1, 5]))
    up = ext[:3, :3] @ np.array([0, 1.0, 0])
    assert up[1] < 0  # OpenCV: y points down


def test_smooth_path_keeps_length_and_constants():
    path = np.stack([np.arange(50.0), np.ones(50)], 1)
    out = smooth_path(path, 7)
    assert out.shape == path.shape
    assert_close(out[10:40], path[10:40], atol=1e-12)  # linear is preserved away from edges


def test_follow_targets_track_the_body():
    clip = walking_clip(60, speed=2.0)
    tgt = follow_targets(clip.positions, 0.0, clip.fps)
    assert tgt.shape == (60, 3)
    assert tgt[-1, 2] - tgt[0, 2] > 3.0  # moved ~4 units with the walker
    assert np.ptp(tgt[:, 1]) == 0


def test_clip_sides_follow_ops_joint_side():
    # the renderer colours by motion3d.ops.joints.joint_side: a marker counts when its pair exists
    left = ["LeftArm", "left_hip", "LHipJoint", "lhand", "Hand_L", "L_Knee", "UpperLeg_L"]
    right = ["RightArm", "right_hip", "RHipJoint", "rhand", "Hand_R", "R_Knee", "UpperLeg_R"]
    centre = ["lowerback", "Chest", "Head", "Spine1", "joint_Root", "Neck"]
    names = ["Hips"] + left + right + centre
    parents = np.array([-1] + [0] * (len(names) - 1))
    pos = np.zeros((2, len(names), 3))
    pos[:, 0, 1] = 1.0  # the root above the floor, every bone one unit long, none moving
    pos[:, 1:, 1] = 2.0 * (np.arange(1, len(names)) % 2)
    sides = Clip(pos, parents, 30, "c", names).sides()
    assert sides.tolist() == [-1] * len(left) + [1] * len(right) + [0] * len(centre)


def test_clip_and_arrays_need_fps():
    with pytest.raises(ValueError, match="needs fps"):
        Clip(np.zeros((3, 3, 3)), [-1, 0, 1], None)
    with pytest.raises(ValueError, match="needs `fps`"):
        as_clips(np.zeros((2, 6, 3)), parents=PARENTS)


def test_clip_validation_and_bones():
    with pytest.raises(ValueError, match="parents"):
        Clip(np.zeros((3, 4, 3)), [-1, 0, 1], 30)
    with pytest.raises(ValueError, match="fps"):
        Clip(np.zeros((3, 3, 3)), [-1, 0, 1], 0)
    clip = walking_clip()
    assert clip.bones().tolist() == [[0, 1], [1, 2], [1, 3], [1, 4], [0, 5]]
    # LeftFoot has no RightFoot partner in this figure, so its side is unknown (joint_side)
    assert clip.sides().tolist() == [0, 0, -1, 1, 0]


def test_translation_links_are_not_bones():
    # joint 0 stays on the origin while joint 1 (the hips) walks away: a translation, not a bone
    clip = walking_clip(60, speed=2.0)
    pos = np.concatenate([np.zeros((60, 1, 3)), clip.positions], 1)
    parents = np.concatenate([[-1], PARENTS + 1])
    parents[1] = 0
    c = Clip(pos, parents, 30)
    assert [0, 1] not in c.bones().tolist()
    assert 0 not in c.drawn_joints()
    # a root that follows the hips on the floor (a ground projection) is not drawn either
    ground = clip.positions[:, :1].copy()
    ground[..., 1] = clip.positions[..., 1].min()
    g = Clip(np.concatenate([ground, clip.positions], 1), parents, 30)
    assert [0, 1] not in g.bones().tolist() and 0 not in g.drawn_joints()
    assert len(g.bones()) == len(clip.bones())


def test_timeline_samples_by_time():
    a = walking_clip(30, fps=30)  # 1 s
    b = walking_clip(240, fps=120)  # 2 s
    fps, idx = timeline([a, b])
    assert fps == 120 and idx.shape == (2, 240)
    assert idx[0, 119] == 29 and idx[0, -1] == 29  # holds its last frame
    assert idx[1].tolist() == list(range(240))
    fps, idx = timeline([a, b], fps=10)
    assert idx.shape == (2, 20) and idx[1, 5] == 60


def test_framing_shares_scale_only_for_similar_sizes():
    a, b = walking_clip(), walking_clip(scale=1.2)
    fa, fb = Framing.per_clip([a, b])
    assert fa.height == fb.height
    c = walking_clip(scale=100.0)  # centimetres next to metres
    fa, fc = Framing.per_clip([a, c])
    assert fc.height == pytest.approx(100 * fa.height)
    assert nice_step(0.9) == 0.5 and nice_step(23.0) == 20.0 and nice_step(1.0) == 1.0


def test_grid_segments_snap_and_shape():
    seg = grid_segments(np.array([[0.26, 0.0], [1.1, 2.0]]), -1.0, 0.5, 2)
    assert seg.shape == (2, 10, 2, 3)
    assert np.all(seg[..., 1] == -1.0)
    assert_close(seg[0, :5, 0, 0], [-0.5, 0.0, 0.5, 1.0, 1.5])  # centre snapped to 0.5


def test_as_clips_accepts_arrays():
    clips = as_clips([np.zeros((2, 6, 3))], parents=PARENTS, names=["x"], fps=24)
    assert clips[0].name == "x" and clips[0].fps == 24.0
    with pytest.raises(ValueError, match="parents"):
        as_clips(np.zeros((2, 6, 3)))


def _static_root_clip(start_z: float = 5.0, frames: int = 60) -> Clip:
    """The stick figure starting ``start_z`` units away, under a world root that stays on the origin
    at hip height (so its link to the hips is neither a floor projection nor changing length when
    the figure stands still)."""
    clip = walking_clip(frames, speed=0.0)
    pos = clip.positions.copy()
    pos[..., 2] += start_z
    root = np.zeros((frames, 1, 3))
    root[..., 1] = 1.0
    parents = np.concatenate([[-1], PARENTS + 1])
    parents[1] = 0
    return Clip(np.concatenate([root, pos], 1), parents, 30, "far", ["World"] + list(clip.names))


def test_body_mask_leaves_out_a_static_root_far_from_the_body():
    from motion3d.render.clip import body_mask

    far = _static_root_clip(5.0)
    assert [0, 1] in far.bones().tolist()  # drawn: a constant-length link off the floor
    mask = body_mask(far.positions)
    assert not mask[:, 0].any() and mask[:, 1:].all()
    # the same root under the body is part of it
    near = _static_root_clip(0.0)
    assert body_mask(near.positions).all()
    # a walker passing the origin: the root counts only in the frames where it is near the body
    walker = walking_clip(150, speed=2.0)  # 10 units along +Z in 5 s
    pos = walker.positions.copy()
    pos[..., 2] -= 5.0
    with_root = np.concatenate([np.zeros((150, 1, 3)), pos], 1)
    m = body_mask(with_root)
    assert m[:, 1:].all()
    assert m[75, 0] and not m[0, 0] and not m[-1, 0]


def test_framing_fits_the_figure_not_the_distance_to_a_static_root():
    far = _static_root_clip(5.0)
    figure = walking_clip(60, speed=0.0)
    assert Framing.of([far]).height == pytest.approx(Framing.of([figure]).height)
    assert Framing.of([far]).height == pytest.approx(1.8)  # the figure's height, not 5 units


def test_framing_of_a_real_bandai_clip_is_the_body_height(bandai_dir):
    from motion3d.io import bvh
    from motion3d.render.clip import from_motion

    clip = from_motion(bvh.load(bandai_dir / "data" / "dataset-1_walk_normal_001.bvh"))
    # the data's setting: joint_Root stays on the origin, the body starts metres away (centimetres)
    assert np.abs(clip.positions[:, 0]).max() < 1e-6
    assert np.linalg.norm(clip.positions[0, 1, [0, 2]]) > 300
    standing = np.ptp(clip.positions[0, 1:, 1])  # head to toe in the first frame
    assert 130 < standing < 190
    fr = Framing.of([clip])
    assert standing <= fr.height < 1.25 * standing  # was 420+ with the root counted
    assert fr.floor == pytest.approx(clip.positions[:, 1:, 1].min())


def test_rendered_bandai_figure_fills_its_panel(bandai_dir):
    from motion3d.io import bvh
    from motion3d.render import colors
    from motion3d.render.clip import from_motion
    from motion3d.render.skeleton_video import SkeletonFigure

    clip = from_motion(bvh.load(bandai_dir / "data" / "dataset-1_walk_normal_001.bvh"))
    fig = SkeletonFigure(clip, (200, 200), show_names=False)
    img = fig.draw([20]).astype(int)
    fig.close()
    ink = np.abs(img - colors.to_uint8(colors.JOINT)).sum(-1) < 30  # the joint dots
    rows = np.nonzero(ink.any(axis=1))[0]
    assert rows[-1] - rows[0] > 0.5 * img.shape[0]  # head to toe over half the panel (was ~0.15)
