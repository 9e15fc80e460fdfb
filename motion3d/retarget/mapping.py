"""Joint mapping between two skeletons: canonical roles found from joint names, paired by role.

A joint name is normalised (namespace and rig prefixes dropped, the left/right marker found with
:func:`motion3d.ops.joints.joint_side` and removed, separators and case and trailing digits
dropped) to a *core* such as ``upleg``, ``forearm`` or ``toebase``; the built-in alias table turns
cores into canonical roles. Covered naming schemes:

=================  ====================================================================
CMU BVH (01_01)    Hips, LHipJoint, LeftUpLeg, LeftLeg, LeftFoot, LeftToeBase, LowerBack,
                   Spine, Spine1, Neck, Neck1, Head, LeftShoulder, LeftArm, LeftForeArm, LeftHand
CMU BVH (131_*)    LeftHip, LeftKnee, LeftAnkle, LeftToe, lowerback, Chest, Chest2, lowerneck,
                   LeftCollar, LeftShoulder (the upper arm), LeftElbow, LeftWrist, lhand
Bandai-Namco       joint_Root, Hips, Spine, Chest, Neck, Head, Shoulder_L, UpperArm_L,
                   LowerArm_L, Hand_L, UpperLeg_L, LowerLeg_L, Foot_L, Toes_L
Mixamo / HumanIK   mixamorig:Hips, mixamorig:LeftUpLeg, ... Character1_LeftForeArm
SMPL / SMPL-H / X  pelvis, left_hip, left_knee, left_ankle, left_foot (the toes), spine1..3,
                   neck, head, left_collar, left_shoulder (the upper arm), left_elbow, left_wrist
Character Creator  CC_Base_Hip, CC_Base_Pelvis, CC_Base_L_Thigh, CC_Base_L_Calf, CC_Base_Waist,
                   CC_Base_Spine01, CC_Base_NeckTwist01, CC_Base_L_Clavicle, CC_Base_L_Upperarm
=================  ====================================================================

Words that change meaning with their neighbours are resolved per side: ``shoulder`` is the upper
arm when that side also has a ``collar``/``clavicle`` (CMU 131, SMPL), else the clavicle;
``hand`` is the finger base when a ``wrist`` exists (CMU 131, SMPL); ``foot`` is the toes when an
``ankle`` exists (SMPL). ``hips`` is the shallowest hips-named joint (CC_Base_Hip over
CC_Base_Pelvis), ``chest`` the lowest common ancestor of the head/neck and the two arms; ``neck``
the shallowest neck-named joint between chest and head.

The mapping pairs target joints with source joints of the same role (plus identical joint names
that have no role on either side, e.g. fingers of two Mixamo rigs). It can be written to YAML,
edited and read back (:func:`save_mapping`, :func:`load_mapping`); a file's ``pairs`` replace the
automatic pairs entirely.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from motion3d.ops.joints import find_pelvis, joint_side, side_swaps
from motion3d.skeleton import Skeleton

__all__ = [
    "ROLES",
    "REQUIRED_ROLES",
    "JointMapping",
    "MappingError",
    "normalize_name",
    "find_roles",
    "auto_mapping",
    "check_mapping",
    "mapping_to_yaml",
    "save_mapping",
    "load_mapping",
]

_LIMB_ROLES = ("shoulder", "upper_arm", "lower_arm", "hand", "upper_leg", "lower_leg", "foot", "toe",
               "finger_base", "fingers", "thumb")
#: canonical roles, in tree order
ROLES: tuple[str, ...] = ("hips", "chest", "neck", "head") + tuple(
    f"{side}_{r}" for side in ("left", "right") for r in _LIMB_ROLES
)
#: what a pair of skeletons must share: hips, a spine (its top, the chest), and four limbs
REQUIRED_ROLES: tuple[str, ...] = ("hips", "chest") + tuple(
    f"{side}_{r}" for side in ("left", "right")
    for r in ("upper_arm", "lower_arm", "hand", "upper_leg", "lower_leg", "foot")
)

# core word (lowercase, no separators, no side, no trailing digits) -> role
_CENTRE = {
    "hips": "hips", "hip": "hips", "pelvis": "hips",
    "spine": "spine", "lowerback": "spine", "chest": "spine", "upperchest": "spine", "waist": "spine",
    "torso": "spine", "abdomen": "spine", "spinelower": "spine", "spineupper": "spine", "back": "spine",
    "neck": "neck", "lowerneck": "neck", "upperneck": "neck", "necktwist": "neck",
    "head": "head",
}
_SIDED = {
    "shoulder": "shoulder", "clavicle": "shoulder", "collar": "shoulder", "collarbone": "shoulder",
    "arm": "upper_arm", "upperarm": "upper_arm", "uparm": "upper_arm", "humerus": "upper_arm",
    "forearm": "lower_arm", "lowerarm": "lower_arm", "elbow": "lower_arm", "radius": "lower_arm",
    "hand": "hand", "wrist": "hand",
    "upleg": "upper_leg", "upperleg": "upper_leg", "thigh": "upper_leg", "hip": "upper_leg", "femur": "upper_leg",
    "leg": "lower_leg", "lowerleg": "lower_leg", "calf": "lower_leg", "knee": "lower_leg", "shin": "lower_leg",
    "tibia": "lower_leg",
    "foot": "foot", "ankle": "foot",
    "toe": "toe", "toes": "toe", "toebase": "toe", "ball": "toe",
    "fingerbase": "finger_base", "fingers": "fingers", "thumb": "thumb",
}
_PREFIXES = re.compile(r"^(cc_base_|bip0*1[_ ]?|def[-_]|org[-_]|mixamorig\d*[_]?|character\d*_|j_bip_(?:[clr]_)?|b_)", re.I)


class MappingError(ValueError):
    """Two skeletons cannot be paired (too few shared roles) or a mapping file is invalid."""


def normalize_name(name: str, names: list[str] | None = None) -> tuple[str, str | None]:
    """``(core, side)`` of a joint name: ``"mixamorig:LeftUpLeg"`` -> ``("upleg", "left")``,
    ``"UpperArm_R"`` -> ``("upperarm", "right")``, ``"CC_Base_Spine01"`` -> ``("spine", None)``.
    ``names`` (the skeleton's joint names) restricts side markers to names whose partner exists
    (so ``LowerBack`` has no side)."""
    side = joint_side(name, names)
    core = name
    if side is not None:
        core = _strip_side(name, side, names)
    core = re.split(r"[:|]", core)[-1]
    core = _PREFIXES.sub("", core)
    core = re.sub(r"[^a-z0-9]", "", core.lower())
    core = re.sub(r"\d+$", "", core)
    return core, side


def _strip_side(name: str, side: str, names) -> str:
    """``name`` with its side marker (``Left``, ``R``, ``l`` ...) replaced by a space: the marker
    starts where ``name`` and its mirror partner first differ."""
    partner = _partner(name, names)
    if partner is None:
        return name
    i = 0
    while i < min(len(name), len(partner)) and name[i] == partner[i]:
        i += 1
    rest = name[i:].lower()
    n = 5 if rest.startswith("right") else 4 if rest.startswith("left") else 1
    return name[:i] + " " + name[i + n:]


def _partner(name: str, names) -> str | None:
    """The mirror partner's name (``LeftArm`` -> ``RightArm``), by swapping the marker that
    :func:`joint_side` recognised."""
    for other, _ in side_swaps(name):
        if names is None or other in names:
            return other
    return None


@dataclass
class JointMapping:
    """Which source joint drives each target joint.

    Attributes:
        pairs: ``{target joint name: source joint name}``; target joints not listed are either
            distributed along a chain between mapped joints or stay at rest.
        source_roles, target_roles: ``{role: joint name}`` found on each skeleton (for reports).
    """

    pairs: dict[str, str]
    source_roles: dict[str, str] = field(default_factory=dict)
    target_roles: dict[str, str] = field(default_factory=dict)

    def role_of(self, target_joint: str) -> str | None:
        for role, name in self.target_roles.items():
            if name == target_joint:
                return role
        return None

    def indices(self, source: Skeleton, target: Skeleton) -> dict[int, int]:
        """``{target index: source index}``."""
        return {target.index(t): source.index(s) for t, s in self.pairs.items()}


def find_roles(skeleton: Skeleton) -> dict[str, int]:
    """``{role: joint index}`` for the roles found by name (see the module docstring)."""
    names = skeleton.names
    depth = skeleton.depths
    parsed = [normalize_name(n, names) for n in names]
    cores_by_side: dict[str | None, set[str]] = {}
    for core, side in parsed:
        cores_by_side.setdefault(side, set()).add(core)
    cand: dict[str, list[int]] = {}
    for j, (core, side) in enumerate(parsed):
        role = None
        if side is None:
            role = _CENTRE.get(core)
        else:
            have = cores_by_side.get(side, set())
            role = _SIDED.get(core)
            if core == "shoulder" and have & {"collar", "clavicle", "collarbone"}:
                role = "upper_arm"
            elif core == "hand" and "wrist" in have:
                role = "finger_base"
            elif core == "foot" and "ankle" in have:
                role = "toe"
            if role is not None:
                role = f"{side}_{role}"
        if role is not None:
            cand.setdefault(role, []).append(j)
    roles: dict[str, int] = {}
    for role, js in cand.items():
        if role in ("spine", "neck"):
            continue
        roles[role] = min(js, key=lambda j: (depth[j], j))
    if "hips" not in roles:
        roles["hips"] = find_pelvis(skeleton)
    # chest: lowest common ancestor of the head/neck and both arms (below the hips)
    top = roles.get("head", min(cand.get("neck", [-1]), key=lambda j: (depth[j], j)) if "neck" in cand else None)
    arms = [roles.get(f"{s}_shoulder", roles.get(f"{s}_upper_arm")) for s in ("left", "right")]
    if top is not None and top >= 0 and all(a is not None for a in arms):
        chest = _lca(skeleton, [top] + arms)
        if chest != roles["hips"] and roles["hips"] in skeleton.chain(chest):
            roles["chest"] = chest
    if "chest" in roles and "neck" in cand:
        below_head = set(skeleton.chain(roles["head"])) if "head" in roles else None
        necks = [j for j in cand["neck"] if roles["chest"] in skeleton.chain(j) and j != roles["chest"]
                 and (below_head is None or j in below_head)]
        if necks:
            roles["neck"] = min(necks, key=lambda j: (depth[j], j))
    return dict(sorted(roles.items(), key=lambda kv: ROLES.index(kv[0]) if kv[0] in ROLES else 99))


def _lca(skeleton: Skeleton, joints: list[int]) -> int:
    chains = [skeleton.chain(j) for j in joints]
    common = 0
    for level in zip(*chains):
        if len(set(level)) > 1:
            break
        common = level[0]
    return int(common)


def auto_mapping(source: Skeleton, target: Skeleton) -> JointMapping:
    """The automatic mapping: same roles, then identical names that have no role on either side."""
    rs, rt = find_roles(source), find_roles(target)
    pairs = {target.names[jt]: source.names[rs[role]] for role, jt in rt.items() if role in rs}
    used_s = {source.names[j] for j in rs.values()}
    used_t = {target.names[j] for j in rt.values()}
    above = {target.names[j] for j in target.chain(rt["hips"])} | {source.names[j] for j in source.chain(rs["hips"])}
    for name in target.names:  # identical names without a role: fingers of two Mixamo rigs, CMU's spine
        if name in pairs or name in used_t or name not in source.names or name in used_s or name in above:
            continue
        pairs[name] = name
    order = {n: i for i, n in enumerate(target.names)}
    pairs = dict(sorted(pairs.items(), key=lambda kv: order[kv[0]]))
    return JointMapping(pairs, {r: source.names[j] for r, j in rs.items()}, {r: target.names[j] for r, j in rt.items()})


def check_mapping(mapping: JointMapping, source: Skeleton, target: Skeleton) -> None:
    """Raise :class:`MappingError` unless the hips, the chest (spine) and the four limbs (upper,
    lower, end joint of each arm and leg) are mapped, the names exist, and each mapped pair's
    ancestry agrees (a mapped ancestor on the target side maps to an ancestor on the source side)."""
    bad_t = [t for t in mapping.pairs if t not in target.names]
    bad_s = [s for s in mapping.pairs.values() if s not in source.names]
    if bad_t or bad_s:
        raise MappingError(
            "mapping names joints that do not exist: "
            + (f"target {bad_t} (target joints: {', '.join(target.names)}) " if bad_t else "")
            + (f"source {bad_s} (source joints: {', '.join(source.names)})" if bad_s else "")
        )
    missing = []
    for role in REQUIRED_ROLES:
        t = mapping.target_roles.get(role)
        s = mapping.source_roles.get(role)
        if t is None or s is None or mapping.pairs.get(t) != s:
            where = [w for w, v in (("source", s), ("target", t)) if v is None]
            missing.append(f"{role} ({'not found on the ' + ' and '.join(where) if where else 'not paired'})")
    if missing:
        raise MappingError(
            "cannot retarget: these roles must be mapped on both skeletons (hips, spine, four limbs) "
            f"but are missing: {'; '.join(missing)}. Source joints: {', '.join(source.names)}. Target "
            f"joints: {', '.join(target.names)}. Write a mapping file (--save-mapping, then --mapping) "
            "to pair them by hand."
        )
    idx = mapping.indices(source, target)
    for jt, js in idx.items():
        a = int(target.parents[jt])
        while a >= 0 and a not in idx:
            a = int(target.parents[a])
        if a >= 0 and idx[a] not in source.chain(js):
            raise MappingError(
                f"mapping is not tree-consistent: target {target.names[jt]!r} -> source {source.names[js]!r}, "
                f"but its mapped ancestor {target.names[a]!r} -> {source.names[idx[a]]!r}, which is not an "
                f"ancestor of {source.names[js]!r}"
            )


def mapping_to_yaml(mapping: JointMapping, source: Skeleton | None = None, target: Skeleton | None = None) -> str:
    """The mapping as commented YAML (``pairs: {target: source}``) for a user to check and edit."""
    lines = ["# motion3d joint mapping: target joint <- source joint (edit, then pass with --mapping).",
             "# Target joints not listed are interpolated along a chain between mapped joints, or stay at rest."]
    if source is not None and target is not None:
        lines.append(f"# source: {source.num_joints} joints, target: {target.num_joints} joints")
    lines.append("pairs:")
    for t, s in mapping.pairs.items():
        role = mapping.role_of(t)
        lines.append(f"  {_q(t)}: {_q(s)}" + (f"  # {role}" if role else ""))
    if target is not None:
        rest = [n for n in target.names if n not in mapping.pairs]
        if rest:
            lines.append("# unmapped target joints: " + ", ".join(rest))
    roles = {r: [mapping.source_roles.get(r), mapping.target_roles.get(r)] for r in ROLES
             if r in mapping.source_roles or r in mapping.target_roles}
    lines.append("roles:  # role: [source joint, target joint]; used to check that limbs are mapped")
    for r, (s, t) in roles.items():
        lines.append(f"  {r}: [{_q(s) if s else 'null'}, {_q(t) if t else 'null'}]")
    return "\n".join(lines) + "\n"


def _q(name: str) -> str:
    import yaml

    return yaml.safe_dump(name, default_style=None).strip().removesuffix("\n...").strip()


def save_mapping(mapping: JointMapping, path: str | os.PathLike, source: Skeleton | None = None,
                 target: Skeleton | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(mapping_to_yaml(mapping, source, target))
    return path


def load_mapping(path: str | os.PathLike, source: Skeleton, target: Skeleton) -> JointMapping:
    """Read a YAML mapping (``pairs: {target: source}``; a ``null`` source unmaps a joint). Roles
    come from the ``roles`` section when present, else from the pairs and the automatic roles."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise MappingError(f"{path}: cannot read the mapping file: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("pairs"), dict):
        raise MappingError(f"{path}: a mapping file needs a 'pairs:' section of 'target joint: source joint' lines")
    pairs = {str(t): str(s) for t, s in data["pairs"].items() if s is not None}
    rs, rt = find_roles(source), find_roles(target)
    source_roles = {r: source.names[j] for r, j in rs.items()}
    target_roles = {r: target.names[j] for r, j in rt.items()}
    if isinstance(data.get("roles"), dict):
        for r, v in data["roles"].items():
            if isinstance(v, (list, tuple)) and len(v) == 2:
                if v[0] is not None:
                    source_roles[str(r)] = str(v[0])
                if v[1] is not None:
                    target_roles[str(r)] = str(v[1])
    # a role whose target joint is paired explicitly takes the source joint it is paired with
    for r, t in list(target_roles.items()):
        if t in pairs:
            source_roles[r] = pairs[t]
    mapping = JointMapping(pairs, source_roles, target_roles)
    return mapping
