#!/usr/bin/env python
"""Benchmark: the browser viewer's HTML page of a 10-minute clip at 120 fps (72,000 frames,
31 joints), opened from file:// in headless Debian Chromium (SwiftShader WebGL, no GPU).

    python tools/bench/bench_viewer.py [--minutes 10] [--fps 120] [--seconds 4]

Measured in the same run:
* export: seconds to build the scene and write the page (motion3d.render.web.export_html), and its size;
* open: seconds from navigation until the recording is decoded and the playback bar is shown
  (target < 5 s);
* clock: clip seconds advanced per wall second while playing, against the baseline "the clip's own
  rate" (1.0 = real time: each shown frame is the clip's frame at that time);
* frames shown per second: animation frames in which the page drew (WebGL draw calls counted by a
  script installed before the page loads; viser renders on demand, so a drawn frame is a new pose;
  reading the canvas' pixels does not work: the drawing buffer is cleared once shown), against the
  recording's display rate
  (motion3d.render.web.DISPLAY_FPS; the clip's 120 fps is sampled to it, keeping real time).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from motion3d.render import web  # noqa: E402
from motion3d.render.clip import Clip  # noqa: E402
from tests.browser import browser_page, hide_notifications  # noqa: E402

#: installed before the page loads: counts WebGL draw calls (three.js renders on demand, so an
#: animation frame with draw calls is a newly rendered pose)
DRAW_COUNTER_JS = """(() => {
  window.__draws = 0;
  for (const C of [window.WebGLRenderingContext, window.WebGL2RenderingContext]) {
    if (!C) continue;
    for (const name of ['drawArrays', 'drawElements', 'drawArraysInstanced', 'drawElementsInstanced']) {
      const f = C.prototype[name];
      if (f) C.prototype[name] = function (...a) { window.__draws++; return f.apply(this, a); };
    }
  }
})();"""

COUNT_JS = """(secs) => new Promise(resolve => {
  let last = window.__draws, rendered = 0, ticks = 0;
  const t0 = performance.now();
  function tick() {
    if (window.__draws !== last) { rendered++; last = window.__draws; }
    ticks++;
    if (performance.now() - t0 < secs * 1000) requestAnimationFrame(tick);
    else resolve([rendered, ticks, (performance.now() - t0) / 1000]);
  }
  requestAnimationFrame(tick);
})"""


def long_clip(minutes: float, fps: float, joints: int = 31) -> Clip:
    """(T, 31, 3) a chain figure swaying in place with every joint moving (T = minutes * 60 * fps),
    plus a seeded random drift per joint (a smoothed random walk), so the recording never repeats
    (a periodic clip would compress unrealistically well)."""
    T = int(round(minutes * 60 * fps))
    t = np.arange(T)[:, None] / fps
    j = np.arange(joints)[None]
    pos = np.zeros((T, joints, 3))
    pos[..., 1] = 0.05 + 1.7 * j / (joints - 1)
    pos[..., 0] = 0.15 * np.sin(2 * np.pi * t + 0.3 * j) * (j / joints)
    pos[..., 2] = 0.1 * np.cos(2 * np.pi * 0.5 * t + 0.2 * j)
    walk = np.cumsum(np.random.default_rng(0).normal(0.0, 0.002, (T, joints, 3)), axis=0)  # metres
    pos += walk - walk.mean(0)
    parents = np.arange(-1, joints - 1)
    return Clip(pos, parents, fps, "long")


def playback_time(page) -> float:
    return float(page.locator("input").first.input_value())


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--fps", type=float, default=120.0)
    ap.add_argument("--seconds", type=float, default=4.0, help="playback measured over this long")
    args = ap.parse_args(argv)
    clip = long_clip(args.minutes, args.fps)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "long.html"
        t0 = time.perf_counter()
        info = web.export_html([clip], path)
        export_s = time.perf_counter() - t0
        with browser_page(800, 600) as (page, _, _):
            page.add_init_script(DRAW_COUNTER_JS)
            t0 = time.perf_counter()
            page.goto(path.as_uri())
            page.wait_for_selector("input", timeout=60000)
            open_s = time.perf_counter() - t0
            hide_notifications(page)
            page.wait_for_timeout(500)
            c0, w0 = playback_time(page), time.perf_counter()
            changes, ticks, secs = page.evaluate(COUNT_JS, args.seconds)
            c1, w1 = playback_time(page), time.perf_counter()
    clock = (c1 - c0) / (w1 - w0)
    shown = changes / secs
    print(f"clip: {clip.num_frames} frames x {clip.positions.shape[1]} joints at {clip.fps:g} fps "
          f"({clip.duration:.0f} s)")
    print(f"export: {export_s:.1f} s, page {info['bytes'] / 1e6:.1f} MB, recorded at {info['display_fps']:g} "
          f"display fps ({info['frames']} frames)")
    print(f"open from file:// until the scene is ready: {open_s:.2f} s (target < 5 s)")
    print(f"playback clock: {clock:.2f} clip s per wall s (baseline: the clip's own rate = 1.00): "
          f"ratio {clock:.2f}")
    print(f"frames shown: {shown:.1f} /s over {secs:.1f} s ({ticks / secs:.0f} animation frames/s); "
          f"baseline: the recording's display rate {info['display_fps']:g} /s: ratio "
          f"{shown / info['display_fps']:.2f}; = {shown * clock * args.fps / info['display_fps']:.0f} "
          f"of the clip's {args.fps:g} frames per wall second are sampled")
    return {"export_s": export_s, "open_s": open_s, "clock": clock, "shown_fps": shown, **info}


if __name__ == "__main__":
    main()
