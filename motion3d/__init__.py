"""motion3d: deep learning on human motion and 3D shapes."""
from motion3d.skeleton import Skeleton
from motion3d.motion import Motion

__version__ = "0.1.0"
__all__ = ["Skeleton", "Motion", "__version__"]
