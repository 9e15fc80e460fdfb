"""Small synthetic skeleton clips for the render tests."""
from __future__ import annotations

import numpy as np

from motion3d.render.clip import Clip

# a 6-joint stick figure: root, spine top, head, left hand, right hand, and a leg
PARENTS = np.array([-1, 0, 1, 1, 1, 0])
NAMES = ["Hips", "Chest", "Head", "LeftHand", "RightHand", "LeftFoot"]
REST = np.array([[0, 1.0, 0], [0, 1.5, 0], [0, 1.8, 0], [-0.5, 1.5, 0], [0.5, 1.5, 0], [-0.1, 0.0, 0]])


def walking_clip(frames: int = 30, fps: float = 30.0, speed: float = 1.0, name: str = "walk",
                 scale: float = 1.0) -> Clip:
    """The stick figure walking along +Z at ``speed`` units/s, arms swinging; (T, 6, 3)."""
    t = np.arange(frames) / fps
    pos = np.repeat(REST[None], frames, 0).astype(float)
    pos[:, :, 2] += speed * t[:, None]
    pos[:, 3, 1] += 0.2 * np.sin(2 * np.pi * t)
    pos[:, 4, 1] -= 0.2 * np.sin(2 * np.pi * t)
    return Clip(pos * scale, PARENTS, fps, name, NAMES)
