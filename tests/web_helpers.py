"""Small clips and files for the browser-viewer tests (built in the test, never committed), and the
check of the offline pages (motion3d.render.web.export_html, the tools' --html): one self-contained
file, read back to the clip labels recorded in it."""
from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np

from motion3d.render.clip import Clip

NAMES = ["Hips", "Spine", "Head", "LeftArm", "LeftHand", "RightArm", "RightHand",
         "LeftUpLeg", "LeftFoot", "RightUpLeg", "RightFoot"]
PARENTS = np.array([-1, 0, 1, 1, 3, 1, 5, 0, 7, 0, 9])
REST = np.array([[0, 1.0, 0], [0, 1.45, 0], [0, 1.75, 0], [-0.2, 1.45, 0], [-0.5, 1.45, 0],
                 [0.2, 1.45, 0], [0.5, 1.45, 0], [-0.1, 1.0, 0], [-0.1, 0.05, 0], [0.1, 1.0, 0], [0.1, 0.05, 0]])


def standing_clip(frames: int = 60, fps: float = 30.0, name: str = "stand") -> Clip:
    """A figure 1.75 tall standing still (feet planted: contacts) and turning its hands round
    circles of period 2 s (any two times 1 s apart differ); (T, 11, 3), Y up."""
    t = np.arange(frames) / fps
    pos = np.repeat(REST[None], frames, 0).astype(float)
    for hand, sign in ((4, -1), (6, 1)):
        pos[:, hand, 0] = REST[hand - 1, 0] + sign * 0.3 * np.cos(np.pi * t)
        pos[:, hand, 1] = REST[hand - 1, 1] + 0.3 * np.sin(np.pi * t)
    return Clip(pos, PARENTS, fps, name, NAMES)


def write_z_up_bvh(path: Path, frames: int = 40, fps: float = 30.0) -> Path:
    """A BVH on a Z-up skeleton (iClone/CMU style): head along +Z, feet along -Z, arms swinging."""
    def joint(name, off, children, depth):
        pad = "  " * depth
        s = f"{pad}JOINT {name}\n{pad}{{\n{pad}  OFFSET {off[0]} {off[1]} {off[2]}\n"
        s += f"{pad}  CHANNELS 3 Zrotation Xrotation Yrotation\n"
        s += "".join(children) if children else f"{pad}  End Site\n{pad}  {{\n{pad}    OFFSET 0 0 -5\n{pad}  }}\n"
        return s + f"{pad}}}\n"
    arm = lambda side, x: joint(f"{side}Arm", (x, 0, 0), [joint(f"{side}ForeArm", (x, 0, 0), [], 4)], 3)
    spine = joint("Spine", (0, 0, 45), [joint("Head", (0, 0, 30), [], 3), arm("Left", 25), arm("Right", -25)], 2)
    leg = lambda side, x: joint(f"{side}UpLeg", (x, 0, 0), [joint(f"{side}Leg", (0, 0, -45),
                                [joint(f"{side}Foot", (0, 0, -45), [], 4)], 3)], 2)
    text = "HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 0\n  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
    text += spine + leg("Left", 10) + leg("Right", -10) + "}\n"
    n_rot = 3 * 12  # Spine, Head, 2 x (Arm, ForeArm), 2 x (UpLeg, Leg, Foot)
    rows = []
    for f in range(frames):
        a = 60 * np.sin(2 * np.pi * f / frames)
        vals = [0, 0, 95, 0, 0, 0] + [0.0] * n_rot
        vals[6 + 3 * 2 + 2] = a   # LeftArm Y rotation: up and down in a Z-up world
        vals[6 + 3 * 4 + 2] = a  # RightArm Y rotation
        rows.append(" ".join(f"{v:.3f}" for v in vals))
    text += f"MOTION\nFrames: {frames}\nFrame Time: {1.0 / fps:.6f}\n" + "\n".join(rows) + "\n"
    path.write_text(text)
    return path


ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def page_labels(path: str | Path) -> str:
    """Check that ``path`` is one self-contained page (nothing fetched from the network: no http(s)
    URL but XML namespace names, every ``src=`` / ``href=`` an inline ``data:`` URI) and return its
    embedded recording as text, where the clip labels stand as plain UTF-8."""
    import zstandard  # viser's own dependency: the recording is zstd-compressed msgpack

    text = Path(path).read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html"), text[:80]
    urls = set(re.findall(r"https?://[^\s\"'`)<>]+", text))
    assert all(u.startswith("http://www.w3.org/") for u in urls), urls
    refs = re.findall(r"\b(?:src|href)\s*=\s*[\"']([^\"']*)", text)
    assert all(r.startswith("data:") for r in refs), refs
    embed = re.search(r"__VISER_EMBED_DATA__\s*=\s*\"([A-Za-z0-9+/=]+)\"", text)
    assert embed, f"{path}: no embedded recording"
    data = base64.b64decode(embed.group(1))
    start = data.find(ZSTD_MAGIC)
    assert start >= 0, f"{path}: the recording is not zstd data"
    raw = zstandard.ZstdDecompressor().decompressobj().decompress(data[start:])
    return raw.decode("utf-8", errors="replace")
