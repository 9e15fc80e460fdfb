"""tools/inspect_motion.py on a real file and a real directory (one subprocess), and the library
functions behind it."""
import subprocess
import sys
from pathlib import Path

import pytest

from motion3d.io import FormatError
from motion3d.io.registry import find_motion_files, format_of, load_motion
from motion3d.ops.summary import channel_layout, summarize_directory

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "inspect_motion.py"


def test_script_on_file_and_directory(mocap_dir, tmp_path):
    bandai = mocap_dir / "bandai-namco-1" / "data" / "dataset-1_walk_normal_001.bvh"
    bad = tmp_path / "broken.bvh"
    bad.write_text("HIERARCHY\nROOT a\n{\n")
    out = subprocess.run(
        [sys.executable, str(SCRIPT), str(bandai), str(mocap_dir / "cmu"), str(bad)],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 1, out.stderr  # the broken file is reported, the rest is printed
    text = out.stdout
    assert "joint_Root" in text and "    Spine" in text and "[pos XYZ, rot ZXY]" in text
    assert "fps 30" in text and "units: cm" in text and "up axis y" in text
    assert "cmu: 6 motion files (amc 1, bvh 5)" in text
    assert "120 fps x 6" in text and "skeleton groups:" in text
    assert "broken.bvh" in out.stderr


def test_summary_functions(mocap_dir):
    s = summarize_directory(mocap_dir / "cmu")
    assert s["files"] == 6 and not s["errors"]
    assert s["total_frames"] > 9000 and abs(s["total_duration"] - s["total_frames"] / 120) < 1
    assert sum(g["count"] for g in s["groups"]) == 6
    assert all(g["units"] == "cmu" for g in s["groups"])
    assert channel_layout(("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation")) == "pos XYZ, rot ZXY"
    assert channel_layout(()) == "none"


def test_load_motion_dispatch(mocap_dir, tmp_path):
    m = load_motion(mocap_dir / "cmu" / "01_01.bvh")
    assert m.num_joints == 31
    assert format_of("x.AMC") == "amc" and format_of("a/b.npz") == "amass"
    with pytest.raises(FormatError, match="unknown motion file extension"):
        format_of(tmp_path / "clip.fbx")
    with pytest.raises(FileNotFoundError):
        load_motion(tmp_path / "missing.bvh")
    assert all(p.suffix in (".bvh", ".amc") for p in find_motion_files(mocap_dir / "cmu"))


def _bomb_bvh(frames: int = 999_999_999, joints: int = 40) -> str:
    """A ~1.5 KB BVH whose joints all have ``CHANNELS 0`` and whose ``Frames:`` count is false."""
    lines = ["HIERARCHY", "ROOT j0", "{", "OFFSET 0 0 0", "CHANNELS 0"]
    for k in range(1, joints):
        lines += [f"JOINT j{k}", "{", "OFFSET 0 1 0", "CHANNELS 0"]
    return "\n".join(lines + ["}"] * joints + ["MOTION", f"Frames: {frames}", "Frame Time: 0.0333333"]) + "\n"


def test_bad_file_is_reported_and_the_other_arguments_still_inspected(tmp_path):
    from tests.io.test_bvh import SIMPLE

    bomb = tmp_path / "bomb.bvh"
    bomb.write_text(_bomb_bvh())
    good = tmp_path / "good.bvh"
    good.write_text(SIMPLE)
    out = subprocess.run([sys.executable, str(SCRIPT), str(bomb), str(good), "--no-tree"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stderr
    assert f"{bomb}:" in out.stderr and "'Frames: 999999999' but the hierarchy has no channels" in out.stderr
    assert "Traceback" not in out.stderr
    assert "good.bvh" in out.stdout and "fps 25" in out.stdout  # the argument after the bad one


def test_unexpected_errors_do_not_drop_the_other_arguments(tmp_path, monkeypatch, capsys):
    """Whatever a loader raises for one file (here a MemoryError), the next argument is inspected."""
    import importlib.util

    from tests.io.test_bvh import SIMPLE

    spec = importlib.util.spec_from_file_location("inspect_motion_tool", SCRIPT)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    good = tmp_path / "good.bvh"
    good.write_text(SIMPLE)
    real = tool.load_motion

    def flaky(path, **kw):
        if Path(path).name == "huge.bvh":
            raise MemoryError("cannot allocate 59.6 GiB")
        return real(path, **kw)

    monkeypatch.setattr(tool, "load_motion", flaky)
    status = tool.main([str(tmp_path / "huge.bvh"), str(good), "--no-tree"])
    captured = capsys.readouterr()
    assert status == 1
    assert f"{tmp_path / 'huge.bvh'}: MemoryError: cannot allocate 59.6 GiB" in captured.err
    assert "good.bvh" in captured.out and "fps 25" in captured.out


def _tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location("inspect_motion_tool", SCRIPT)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_rounded_frame_time_prints_the_nominal_rate(tmp_path, capsys):
    """Issue 17 item 13: Frame Time 0.016667 is 60 fps (the Motion keeps the exact 59.9988)."""
    from motion3d.ops.summary import format_fps, nominal_fps
    from tests.io.test_bvh import SIMPLE

    p = tmp_path / "sixty.bvh"
    p.write_text(SIMPLE.replace("Frame Time: 0.04", "Frame Time: 0.016667"))
    assert load_motion(p).fps == pytest.approx(59.9988, abs=1e-4)  # exact value kept
    assert _tool().main([str(p), "--no-tree"]) == 0
    assert "fps 60 (frame time 0.016667 s), frames 2" in capsys.readouterr().out
    assert format_fps(25.0) == "fps 25" and format_fps(1 / 0.0333333) == "fps 30 (frame time 0.0333333 s)"
    assert format_fps(59.5) == "fps 59.5" and nominal_fps(1 / 0.0167) == pytest.approx(59.88, abs=0.01)


def test_feet_against_the_floor(tmp_path, capsys):
    """Issue 17 item 4: inspect_motion says where the feet are against y=0; an iClone export
    (root OFFSET y=105) is read with the OFFSET added (a warning says so) and stands on the floor."""
    from motion3d.io import bvh
    from motion3d.ops.summary import describe_motion, format_feet
    from tests.io.test_bvh import _iclone_bvh

    p = tmp_path / "cc.bvh"
    p.write_text(_iclone_bvh())
    with pytest.warns(UserWarning, match="root_offset='add'"):
        assert _tool().main([str(p), "--no-tree"]) == 0
    assert "feet: lowest 1.5 cm above y=0 over the clip" in capsys.readouterr().out
    d = describe_motion(bvh.load(p, root_offset="replace"))
    assert d["floor"] == pytest.approx(-103.5)
    text = format_feet(d["floor"], d["height"], "cm")
    assert text.startswith("feet: lowest 104 cm below y=0 over the clip (under the floor") and "root_offset='add'" in text
    assert format_feet(0.3, 170, "cm") == "feet: lowest 0.3 cm above y=0 over the clip"
