"""Networks (``nn.Module`` only, no training logic): motion, points, retarget, style.

Importing this package registers every network class with :func:`motion3d.models.config.build`,
the one way a network is rebuilt from a config or a checkpoint.
"""
from motion3d.models import motion, points, retarget, style
from motion3d.models.config import Configurable, UnknownClassPath, build, registered

__all__ = ["motion", "points", "retarget", "style", "Configurable", "UnknownClassPath", "build", "registered"]
