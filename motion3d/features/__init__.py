"""Motion representations for learning: ``encode(Motion) -> (T, D)`` float32 features and
``decode_positions((..., T, D)) -> (..., T, J, 3)`` (torch, differentiable), plus normalisation
statistics. Build one by name with :func:`build` and carry it in checkpoints with
``to_dict()`` / :func:`from_dict`.

* ``"rot6d"``: :class:`RotationFeatures` (local 6D rotations + root trajectory + contacts;
  decodes to a Motion).
* ``"positions"``: :class:`JointPositions` (root-relative positions + root trajectory + contacts).
"""
from motion3d.features.base import MotionRepresentation, available, build, from_dict, register
from motion3d.features.normalize import Normalizer
from motion3d.features.positions import JointPositions
from motion3d.features.rotation import RotationFeatures
from motion3d.features.trajectory import decode_trajectory, encode_trajectory

__all__ = [
    "MotionRepresentation",
    "RotationFeatures",
    "JointPositions",
    "Normalizer",
    "build",
    "from_dict",
    "register",
    "available",
    "encode_trajectory",
    "decode_trajectory",
]
