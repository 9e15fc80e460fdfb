"""generation_metrics: the motion statistics on decoded clips."""
from __future__ import annotations

import numpy as np
import torch

from motion3d.evaluate.generate import generation_metrics
from motion3d.features import Normalizer, build
from motion3d.motion import Motion
from motion3d.skeleton import Skeleton
from motion3d.tasks.context import MotionContext


def _reference_rooted_context() -> tuple[MotionContext, Skeleton]:
    """A skeleton whose joint 0 is a static reference above the pelvis, as Bandai-Namco's joint_Root."""
    names = ["Ref", "Hips", "Spine", "Head", "LeftUpLeg", "LeftLeg", "LeftFoot", "RightUpLeg", "RightLeg", "RightFoot"]
    offsets = np.array([[0, 0, 0], [0, 90, 0], [0, 10, 0], [0, 10, 0], [10, 0, 0], [0, -40, 0], [0, -40, 0],
                        [-10, 0, 0], [0, -40, 0], [0, -40, 0]], dtype=np.float64)
    sk = Skeleton(names, [-1, 0, 1, 2, 1, 4, 5, 1, 7, 8], offsets)
    rep = build("rot6d", sk, fps=30)
    return MotionContext(rep, Normalizer(np.zeros(rep.dim), np.ones(rep.dim)), {"content": ["walk"]}, 30.0, 20), sk


def test_joint_speed_is_relative_to_the_pelvis_not_a_static_joint_0():
    ctx, sk = _reference_rooted_context()
    assert ctx.root_joint == 1
    T = 20
    rot = np.zeros((T, sk.num_joints, 4))
    rot[..., 3] = 1.0  # a rigid pose
    tr = np.broadcast_to(sk.offsets, (T, sk.num_joints, 3)).copy()
    tr[:, 1, 2] += np.arange(T) * 3.0  # the pelvis travels 3 units a frame (90 a second); joint 0 stays put
    motion = Motion(sk, rot, np.zeros((T, 3)), fps=30, translations=tr)
    x = torch.from_numpy(ctx.representation.encode(motion)).float()[None]
    pos = ctx.decode_positions(x)
    assert float((pos[0, -1, 1] - pos[0, 0, 1]).norm()) > 50  # it does travel
    out = generation_metrics(ctx, x, {"content": torch.zeros(1, dtype=torch.long)})
    assert abs(out["joint_speed"]) < 1e-4  # a rigid body moving along: no joint speed
    nod = rot.copy()  # the same travel, the spine nodding 10 degrees forward every other frame
    nod[1::2, 2] = [np.sin(np.radians(5)), 0, 0, np.cos(np.radians(5))]
    x2 = torch.from_numpy(ctx.representation.encode(Motion(sk, nod, np.zeros((T, 3)), 30, translations=tr))).float()
    speed = generation_metrics(ctx, x2[None], {"content": torch.zeros(1, dtype=torch.long)})["joint_speed"]
    # the head, 10 units from the spine, swings 2 sin(5 deg) x 10 units each frame; the mean is over
    # the body's 9 joints (not the reference)
    want = 2 * np.sin(np.radians(5)) * 10 * 30 / 9 / sk.height()
    assert abs(speed - want) < 1e-3 * want
