"""Synthetic humanoid skeletons in several naming schemes, and small motion helpers for tests."""
from __future__ import annotations

import numpy as np

from motion3d.motion import Motion
from motion3d.skeleton import Skeleton

_SIDE = {"left": 1.0, "right": -1.0}


def _mixamo(prefix):
    def side(s, word):
        return f"{prefix}{'Left' if s == 'left' else 'Right'}{word}"
    return dict(
        hips=f"{prefix}Hips", spine=[f"{prefix}Spine", f"{prefix}Spine1", f"{prefix}Spine2"],
        neck=[f"{prefix}Neck"], head=f"{prefix}Head", head_end=f"{prefix}HeadTop_End",
        shoulder=lambda s: side(s, "Shoulder"), upper_arm=lambda s: side(s, "Arm"),
        lower_arm=lambda s: side(s, "ForeArm"), hand=lambda s: side(s, "Hand"),
        finger=lambda s: side(s, "HandIndex1"),
        upper_leg=lambda s: side(s, "UpLeg"), lower_leg=lambda s: side(s, "Leg"),
        foot=lambda s: side(s, "Foot"), toe=lambda s: side(s, "ToeBase"), toe_end=lambda s: side(s, "Toe_End"),
    )


SCHEMES = {
    "mixamo": _mixamo("mixamorig:"),
    "humanik": _mixamo("Character1_"),
    "smpl": dict(
        hips="pelvis", spine=["spine1", "spine2", "spine3"], neck=["neck"], head="head",
        shoulder=lambda s: f"{s}_collar", upper_arm=lambda s: f"{s}_shoulder", lower_arm=lambda s: f"{s}_elbow",
        hand=lambda s: f"{s}_wrist", finger=lambda s: f"{s}_hand",
        upper_leg=lambda s: f"{s}_hip", lower_leg=lambda s: f"{s}_knee", foot=lambda s: f"{s}_ankle",
        toe=lambda s: f"{s}_foot",
    ),
    "cc": dict(
        root="CC_Base_BoneRoot", hips="CC_Base_Hip", pelvis="CC_Base_Pelvis",
        spine=["CC_Base_Waist", "CC_Base_Spine01", "CC_Base_Spine02"],
        neck=["CC_Base_NeckTwist01", "CC_Base_NeckTwist02"], head="CC_Base_Head",
        shoulder=lambda s: f"CC_Base_{s[0].upper()}_Clavicle", upper_arm=lambda s: f"CC_Base_{s[0].upper()}_Upperarm",
        twist=lambda s: f"CC_Base_{s[0].upper()}_UpperarmTwist01",
        lower_arm=lambda s: f"CC_Base_{s[0].upper()}_Forearm", hand=lambda s: f"CC_Base_{s[0].upper()}_Hand",
        upper_leg=lambda s: f"CC_Base_{s[0].upper()}_Thigh", lower_leg=lambda s: f"CC_Base_{s[0].upper()}_Calf",
        foot=lambda s: f"CC_Base_{s[0].upper()}_Foot", toe=lambda s: f"CC_Base_{s[0].upper()}_ToeBase",
    ),
}


def humanoid(scheme: str = "mixamo", pose: str = "T", scale: float = 1.0, arms: bool = True) -> Skeleton:
    """A humanoid (metres x ``scale``, Y up, facing +Z, left = +X) named like ``scheme``; ``pose``
    ``"T"`` (arms horizontal) or ``"A"`` (arms 45 degrees down). ``arms=False`` leaves the arms out."""
    n = SCHEMES[scheme]
    names, parents, offsets = [], [], []

    def add(name, parent, off):
        names.append(name)
        parents.append(-1 if parent is None else names.index(parent))
        offsets.append(np.asarray(off, float) * scale)
        return name

    top = None
    if "root" in n:
        top = add(n["root"], None, [0, 0, 0])
    hips = add(n["hips"], top, [0, 1.0, 0])
    leg_parent = add(n["pelvis"], hips, [0, -0.02, 0]) if "pelvis" in n else hips
    for s, x in _SIDE.items():
        p = add(n["upper_leg"](s), leg_parent, [0.1 * x, -0.05, 0])
        p = add(n["lower_leg"](s), p, [0, -0.45, 0.01])
        p = add(n["foot"](s), p, [0, -0.42, -0.01])
        p = add(n["toe"](s), p, [0, -0.06, 0.12])
        if "toe_end" in n:
            add(n["toe_end"](s), p, [0, 0, 0.05])
    p = hips
    for k, name in enumerate(n["spine"]):
        p = add(name, p, [0, 0.0 if k == 0 else 0.17, 0.0])
    chest = p
    for k, name in enumerate(n["neck"]):
        p = add(name, p, [0, 0.18 if k == 0 else 0.05, 0.01])
    head = add(n["head"], p, [0, 0.08, 0])
    if "head_end" in n:
        add(n["head_end"], head, [0, 0.18, 0])
    if arms:
        c, s45 = (1.0, 0.0) if pose == "T" else (np.sqrt(0.5), np.sqrt(0.5))
        for s, x in _SIDE.items():
            p = add(n["shoulder"](s), chest, [0.04 * x, 0.15, 0])
            p = add(n["upper_arm"](s), p, [0.14 * x, 0.0, 0])
            if "twist" in n:
                add(n["twist"](s), p, [0.12 * x * c, -0.12 * s45, 0])
            p = add(n["lower_arm"](s), p, [0.28 * x * c, -0.28 * s45, 0])
            p = add(n["hand"](s), p, [0.25 * x * c, -0.25 * s45, 0])
            if "finger" in n:
                add(n["finger"](s), p, [0.08 * x * c, -0.08 * s45, 0])
    return Skeleton(names, np.array(parents), np.array(offsets), end_sites={names.index(head): np.array([0, 0.1, 0]) * scale})


def random_rotations(shape, rng, max_angle=np.pi) -> np.ndarray:
    """``(*shape, 4)`` random unit quaternions with angles up to ``max_angle``."""
    axis = rng.normal(size=shape + (3,))
    axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
    ang = rng.uniform(0, max_angle, size=shape + (1,))
    return np.concatenate([axis * np.sin(ang / 2), np.cos(ang / 2)], -1)


def random_motion(skeleton: Skeleton, frames: int = 12, seed: int = 0, max_angle: float = 0.6) -> Motion:
    """Smooth-ish random local rotations (up to ``max_angle`` rad) and a wandering root."""
    rng = np.random.default_rng(seed)
    key = random_rotations((2, skeleton.num_joints), rng, max_angle)
    t = np.linspace(0, 1, frames)[:, None, None]
    q = (1 - t) * key[0] + t * key[1]
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    root = skeleton.offsets[0] + np.cumsum(rng.normal(scale=0.02 * skeleton.height(), size=(frames, 3)), 0)
    return Motion(skeleton, q, root, 30.0)
