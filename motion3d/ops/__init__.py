"""Operations on :class:`motion3d.Motion`: each returns a new Motion and leaves its input alone."""
from motion3d.ops.axes import change_basis, detect_up_axis, to_y_up
from motion3d.ops.canonical import canonicalize, transform
from motion3d.ops.contacts import foot_contacts
from motion3d.ops.facing import facing_directions, heading_angles, yaw_matrix
from motion3d.ops.floor import floor_height, put_on_floor
from motion3d.ops.joints import find_facing_pairs, find_feet, find_mirror_pairs, find_pelvis, joint_side, side_swaps
from motion3d.ops.mirror import mirror
from motion3d.ops.resample import resample
from motion3d.ops.units import UNITS, convert_units, estimate_units, scale

__all__ = [
    "change_basis", "detect_up_axis", "to_y_up",
    "canonicalize", "transform",
    "foot_contacts",
    "facing_directions", "heading_angles", "yaw_matrix",
    "floor_height", "put_on_floor",
    "find_facing_pairs", "find_feet", "find_mirror_pairs", "find_pelvis", "joint_side", "side_swaps",
    "mirror",
    "resample",
    "UNITS", "convert_units", "estimate_units", "scale",
]
