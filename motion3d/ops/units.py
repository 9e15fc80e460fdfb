"""Units: scaling a clip, converting between named units, and guessing a file's unit from the
skeleton's height."""
from __future__ import annotations

from motion3d.motion import Motion
from motion3d.skeleton import Skeleton

__all__ = ["UNITS", "scale", "convert_units", "estimate_units"]

#: metres per unit. ``cmu`` is the CMU ASF length unit (``:units length 0.45``: 1/0.45 inch),
#: which CMU's BVH conversions keep.
UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "inch": 0.0254, "ft": 0.3048, "cmu": 0.0254 / 0.45}
_ALIASES = {"in": "inch", "inches": "inch", "meter": "m", "meters": "m", "metre": "m", "metres": "m",
            "centimeters": "cm", "millimeters": "mm", "feet": "ft", "foot": "ft"}


def scale(motion: Motion, factor: float) -> Motion:
    """Every length times ``factor``: skeleton offsets and end sites, root positions ``(T, 3)``,
    translations ``(T, J, 3)``. Rotations are unchanged."""
    if not factor > 0:
        raise ValueError(f"scale factor must be positive, got {factor}")
    tr = None if motion.translations is None else motion.translations * factor
    return Motion(motion.skeleton.scaled(factor), motion.rotations.copy(), motion.root_positions * factor,
                  motion.fps, tr, motion.name)


def _unit(u: str) -> str:
    key = _ALIASES.get(u.lower(), u.lower())
    if key not in UNITS:
        raise ValueError(f"unknown length unit {u!r}; known: {', '.join(UNITS)}")
    return key


def convert_units(motion: Motion, source: str, target: str) -> Motion:
    """``motion`` measured in ``source`` units expressed in ``target`` units (``"m"``, ``"cm"``,
    ``"mm"``, ``"inch"``, ``"ft"``, ``"cmu"``)."""
    return scale(motion, UNITS[_unit(source)] / UNITS[_unit(target)])


# plausible Skeleton.height() ranges per unit (head joint to ankle: about 0.75-1.1 x stature)
_HEIGHT_RANGES = [("m", 0.5, 2.6), ("cmu", 10.0, 40.0), ("inch", 40.0, 100.0), ("cm", 100.0, 260.0),
                  ("mm", 1000.0, 2600.0)]


def estimate_units(skeleton: Skeleton) -> str:
    """Best guess of the length unit from :meth:`Skeleton.height` for a human skeleton:
    ``"m"``, ``"cmu"``, ``"inch"``, ``"cm"``, ``"mm"``, or ``"unknown"``."""
    h = skeleton.height()
    for name, lo, hi in _HEIGHT_RANGES:
        if lo <= h < hi:
            return name
    return "unknown"
