"""Analytic motion retargeting between skeletons: joint mapping by canonical roles, rest-pose
alignment, chain distribution, root scaling, optional foot cleanup; plus the naive baseline.

>>> from motion3d.retarget import retarget
>>> out = retarget(motion, target_skeleton)           # doctest: +SKIP
"""
from motion3d.retarget.mapping import (
    REQUIRED_ROLES, ROLES, JointMapping, MappingError, auto_mapping, check_mapping, find_roles,
    load_mapping, mapping_to_yaml, normalize_name, save_mapping,
)
from motion3d.retarget.retarget import naive_copy, resolve_mapping, retarget

__all__ = [
    "ROLES", "REQUIRED_ROLES", "JointMapping", "MappingError", "auto_mapping", "check_mapping", "find_roles",
    "load_mapping", "mapping_to_yaml", "normalize_name", "save_mapping",
    "retarget", "naive_copy", "resolve_mapping",
]
