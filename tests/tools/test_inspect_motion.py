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
