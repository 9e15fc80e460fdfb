"""Issue 16, item 2: tools never write onto their inputs, never replace a file without --force, and
never leave a half-written output (a render killed with SIGTERM mid-video leaves nothing)."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script(path: str):
    spec = importlib.util.spec_from_file_location(Path(path).stem + "_under_test", ROOT / path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture()
def clips(tmp_path, cmu_dir):
    """Copies of two CMU clips (the tests may try to overwrite them)."""
    a, b = tmp_path / "a.bvh", tmp_path / "b.bvh"
    a.write_bytes((cmu_dir / "131_01.bvh").read_bytes())
    b.write_bytes((cmu_dir / "01_01.bvh").read_bytes())
    return a, b


def test_retarget_onto_its_inputs_is_refused_and_they_stay_byte_identical(clips, tmp_path, capsys):
    a, b = clips
    before = _digest(a), _digest(b)
    os.symlink(a, tmp_path / "alias.bvh")
    tool = _script("tools/retarget.py")
    for out, extra in ((a, []), (b, []), (tmp_path / "alias.bvh", ["--force"]), (tmp_path / "o.bvh", ["--video", a]),
                       (tmp_path / "o.bvh", ["--save-mapping", b])):
        code = tool.main([str(a), "--target", str(b), "-o", str(out), "--frames", "0:5", *map(str, extra)])
        assert code == 2
        err = capsys.readouterr().err
        assert "refusing to write onto an input" in err or "must end in" in err, err
    assert (_digest(a), _digest(b)) == before and not (tmp_path / "o.bvh").exists()


def test_retarget_validates_every_output_before_any_work(clips, tmp_path, capsys):
    a, b = clips
    tool = _script("tools/retarget.py")
    out = tmp_path / "o.bvh"
    # the video suffix used to be checked after the BVH was written
    assert tool.main([str(a), "--target", str(b), "-o", str(out), "--video", str(tmp_path / "v.txt")]) == 2
    assert "--video must end in" in capsys.readouterr().err and not out.exists()
    assert tool.main([str(a), "--target", str(b), "-o", str(tmp_path / "o.txt")]) == 2
    assert "-o must end in .bvh" in capsys.readouterr().err
    # an existing output needs --force
    out.write_text("earlier result")
    assert tool.main([str(a), "--target", str(b), "-o", str(out), "--frames", "0:5"]) == 2
    assert "pass --force" in capsys.readouterr().err and out.read_text() == "earlier result"
    assert tool.main([str(a), "--target", str(b), "-o", str(out), "--frames", "0:5", "--force"]) == 0
    from motion3d.io import bvh

    assert bvh.load(out).num_frames == 5 and _names(tmp_path) == ["a.bvh", "b.bvh", "o.bvh"]


def test_render_refuses_its_input_and_an_existing_video(clips, tmp_path):
    a, _ = clips
    before = _digest(a)
    render = _script("viz/render.py")
    for out in (a, tmp_path / "a.gif.bvh"):
        with pytest.raises(SystemExit):
            render.main([str(a), "-o", str(out), "--force"])
    assert _digest(a) == before
    out = tmp_path / "v.gif"
    out.write_bytes(b"earlier video")
    with pytest.raises(SystemExit):
        render.main([str(a), "-o", str(out), "--size", "32x32", "--duration", "0.1"])
    assert out.read_bytes() == b"earlier video"
    info = render.main([str(a), "-o", str(out), "--size", "32x32", "--duration", "0.1", "--fps", "10", "--force"])
    assert info["frames"] == 1 and out.read_bytes()[:3] == b"GIF"
    assert _names(tmp_path) == ["a.bvh", "b.bvh", "v.gif"]


def test_fit_silhouette_refuses_an_existing_image(clips, tmp_path):
    a, _ = clips
    out = tmp_path / "fit.png"
    out.write_bytes(b"earlier image")
    tool = _script("tools/fit_silhouette.py")
    with pytest.raises(SystemExit):
        tool.main([str(a), "-o", str(out), "--iters", "1", "--size", "16"])
    with pytest.raises(SystemExit):
        tool.main([str(a), "-o", str(a), "--iters", "1", "--size", "16", "--force"])
    assert out.read_bytes() == b"earlier image"


def test_killed_render_leaves_no_file_at_the_output_path(tmp_path, cmu_dir):
    out = tmp_path / "out" / "long.mp4"
    # 2752 frames at 120 fps: rendering takes far longer than it takes us to kill it
    proc = subprocess.Popen([sys.executable, str(ROOT / "viz" / "render.py"), str(cmu_dir / "01_01.bvh"),
                             "-o", str(out), "--size", "64x64"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 120
        temp = None
        while time.monotonic() < deadline and proc.poll() is None:  # wait until frames are being written
            temps = list(out.parent.glob(".long.mp4.*")) if out.parent.exists() else []
            if temps and temps[0].stat().st_size > 0:
                temp = temps[0]
                break
            time.sleep(0.05)
        assert temp is not None and temp.suffix == ".mp4", proc.stderr.read().decode() if proc.poll() else ""
        assert not out.exists()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(60)
        assert rc == 128 + signal.SIGTERM, f"exit status {rc}; stderr:\n{proc.stderr.read().decode()[-4000:]}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not out.exists() and _names(out.parent) == []  # no output, no temporary file left behind


def test_write_samples_checks_every_name_before_writing(clips, tmp_path):
    from motion3d.io import bvh
    from motion3d.outputs import OutputError
    from motion3d.tasks.sampling import write_samples

    a, _ = clips
    m1, m2 = bvh.load(a)[0:4], bvh.load(a)[4:8]
    m1.name, m2.name = "sample00", "sample01"
    out = tmp_path / "s"
    write_samples([m1, m2], out, video=False)
    (out / "sample01.bvh").write_text("earlier")
    (out / "sample00.bvh").unlink()
    with pytest.raises(OutputError, match=r"sample01\.bvh: output exists"):
        write_samples([m1, m2], out, video=False)
    assert _names(out) == ["sample01.bvh"]  # nothing written, not even the free name
    write_samples([m1, m2], out, video=False, force=True)
    assert bvh.load(out / "sample01.bvh").num_frames == 4 and _names(out) == ["sample00.bvh", "sample01.bvh"]
