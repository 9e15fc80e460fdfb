"""Putting clips on the reference skeleton: a NaN bone never passes the tolerance."""
import numpy as np
import pytest

from motion3d.data.conform import SkeletonMismatch, conform, header_difference
from motion3d.motion import Motion
from motion3d.skeleton import Skeleton

NAMES = ["Hips", "Spine", "Head"]
PARENTS = np.array([-1, 0, 1])
OFFSETS = np.array([[0.0, 1.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.5, 0.0]])


def _skeleton(offsets=OFFSETS, translated=False):
    ch = [("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation")] * 3 if translated else \
        [("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation")] + [("Zrotation", "Xrotation", "Yrotation")] * 2
    return Skeleton(NAMES, PARENTS, np.asarray(offsets, float), ch)


def test_nan_header_offset_is_a_difference():
    bad = OFFSETS.copy()
    bad[1, 1] = np.nan
    why = header_difference(_skeleton(), _skeleton(bad))
    assert why is not None and "'Spine'" in why and "nan" in why
    assert header_difference(_skeleton(), _skeleton(OFFSETS + [[0, 0, 0], [0, 1e-5, 0], [0, 0, 0]])) is None


def test_nan_translation_is_a_mismatch_not_a_pass():
    sk = _skeleton(translated=True)
    T = 4
    rot = np.zeros((T, 3, 4))
    rot[..., 3] = 1.0
    tr = np.repeat(OFFSETS[None], T, 0)
    tr[:, 0] = np.linspace(0, 1, T)[:, None]  # the root moves
    tr[:, 2, 1] = np.nan  # the head's bone is NaN in every frame
    m = Motion(sk, rot, tr[:, 0].copy(), 30.0, tr)
    with pytest.raises(SkeletonMismatch, match="'Head'.*nan"):
        conform(m, sk)
    good = m.replace(translations=np.repeat(OFFSETS[None], T, 0))
    assert conform(good, sk).skeleton is sk
