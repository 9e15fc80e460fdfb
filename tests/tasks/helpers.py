"""A tiny motion context (9-joint skeleton, rot6d features, identity statistics) for tests that
need a checkpoint-shaped context without loading a dataset."""
from __future__ import annotations

import numpy as np

from motion3d.features import Normalizer, build
from motion3d.skeleton import Skeleton
from motion3d.tasks.context import MotionContext


def tiny_skeleton() -> Skeleton:
    names = ["Hips", "Spine", "Head", "LeftUpLeg", "LeftLeg", "LeftFoot", "RightUpLeg", "RightLeg", "RightFoot"]
    offsets = np.array([[0, 90, 0], [0, 10, 0], [0, 10, 0], [10, 0, 0], [0, -40, 0], [0, -40, 0],
                        [-10, 0, 0], [0, -40, 0], [0, -40, 0]], dtype=np.float64)
    return Skeleton(names, [-1, 0, 1, 0, 3, 4, 0, 6, 7], offsets)


def tiny_context(window: int = 20) -> MotionContext:
    rep = build("rot6d", tiny_skeleton(), fps=30)
    return MotionContext(rep, Normalizer(np.zeros(rep.dim), np.ones(rep.dim)),
                         {"content": ["walk", "run"], "style": ["angry"]}, 30.0, window)
