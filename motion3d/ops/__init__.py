"""Operations on :class:`motion3d.Motion`: each returns a new Motion and leaves its input alone."""
from motion3d.ops.axes import change_basis, detect_up_axis, to_y_up

__all__ = ["change_basis", "detect_up_axis", "to_y_up"]
