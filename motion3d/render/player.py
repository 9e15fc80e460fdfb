"""Interactive Open3D player for a :class:`~motion3d.render.open3d_clips.ClipScene`.

Playback follows the wall clock, so a clip at any frame rate plays in real time (scaled by the
speed). Keys (printed at start):

    space       play / pause            right / left   step one frame (pauses)
    up / down   speed x2 / ÷2           0              speed 1
    L           loop on / off           F              camera follows the clips on / off
    R           reset the camera        Home           back to the start
    Q / Esc     quit
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from motion3d.render import open3d_scene as o3s
from motion3d.render.open3d_clips import ClipScene
from motion3d.render.open3d_scene import missing_display


KEYS = {"space": 32, "right": 262, "left": 263, "up": 265, "down": 264, "0": 48, "L": 76, "F": 70,
        "R": 82, "home": 268}
HELP = __doc__.split("Keys (printed at start):", 1)[1].rstrip()


@dataclass
class PlaybackClock:
    """Scene time from the wall clock: play/pause, speed, loop and single-frame steps.

    Attributes:
        duration: length in seconds; fps: frame rate used for steps.
    """

    duration: float
    fps: float
    speed: float = 1.0
    playing: bool = True
    loop: bool = True
    time: float = 0.0

    def advance(self, dt: float) -> float:
        """Move on by ``dt`` wall-clock seconds; returns the scene time."""
        if self.playing:
            self.time += dt * self.speed
            if self.time >= self.duration:
                if self.loop and self.duration > 0:
                    self.time %= self.duration
                else:
                    self.time = max(self.duration - 1.0 / self.fps, 0.0)
                    self.playing = False
        return self.time

    def step(self, frames: int) -> float:
        """Pause and move by whole frames (wrapping when looping)."""
        self.playing = False
        frame = int(np.floor(self.time * self.fps + 1e-6)) + frames
        n = max(1, int(round(self.duration * self.fps)))
        frame = frame % n if self.loop else int(np.clip(frame, 0, n - 1))
        self.time = frame / self.fps
        return self.time

    def toggle(self) -> None:
        if not self.playing and self.time >= self.duration - 1.0 / self.fps and not self.loop:
            self.time = 0.0
        self.playing = not self.playing

    def faster(self, factor: float) -> None:
        self.speed = float(np.clip(self.speed * factor, 1.0 / 64, 64.0))


class Player:
    """Window, key bindings and the animation loop around a scene.

    Raises RuntimeError at once when there is no display (:func:`missing_display`); tests that drive
    the player by its callbacks on Open3D's invisible EGL context pass ``check_display=False``.
    """

    def __init__(self, scene: ClipScene, width: int = 1280, height: int = 720, title: str = "motion3d",
                 check_display: bool = True):
        problem = missing_display() if check_display else None
        if problem:
            raise RuntimeError(problem)
        o3d = o3s.require_open3d()
        self.scene = scene
        self.clock = PlaybackClock(scene.duration, scene.fps)
        self.width, self.height = width, height
        self.follow = True
        self.vis = o3d.visualization.VisualizerWithKeyCallback()
        if not self.vis.create_window(window_name=title, width=width, height=height):
            raise RuntimeError("Open3D could not open a window (no display?); use --offscreen out.mp4")
        o3s.configure(self.vis)
        for g in scene.build():
            self.vis.add_geometry(g, reset_bounding_box=True)
        self._last = None
        self._target = scene.target(0.0)
        self.reset_camera()
        bind = self.vis.register_key_callback
        bind(KEYS["space"], lambda v: self._key(self.clock.toggle))
        bind(KEYS["right"], lambda v: self._key(lambda: self.clock.step(1)))
        bind(KEYS["left"], lambda v: self._key(lambda: self.clock.step(-1)))
        bind(KEYS["up"], lambda v: self._key(lambda: self.clock.faster(2.0)))
        bind(KEYS["down"], lambda v: self._key(lambda: self.clock.faster(0.5)))
        bind(KEYS["0"], lambda v: self._key(lambda: setattr(self.clock, "speed", 1.0)))
        bind(KEYS["L"], lambda v: self._key(lambda: setattr(self.clock, "loop", not self.clock.loop)))
        bind(KEYS["F"], lambda v: self._key(lambda: setattr(self, "follow", not self.follow)))
        bind(KEYS["R"], lambda v: self._key(self.reset_camera))
        bind(KEYS["home"], lambda v: self._key(lambda: setattr(self.clock, "time", 0.0)))
        self.vis.register_animation_callback(self._tick)

    def _key(self, action) -> bool:
        action()
        c = self.clock
        print(f"\rt={c.time:7.2f}s  speed x{c.speed:g}  {'playing' if c.playing else 'paused '}  "
              f"loop {'on ' if c.loop else 'off'}  follow {'on ' if self.follow else 'off'}", end="", flush=True)
        self._update(c.time)
        return True

    def reset_camera(self) -> None:
        eye, target = self.scene.view(self.clock.time)
        o3s.set_view(self.vis, self.width, self.height, eye, target)
        self._target = target

    def _follow(self, t: float) -> None:
        """Translate the camera with the clips, keeping the user's rotation and zoom."""
        target = self.scene.target(t)
        delta = target - self._target
        self._target = target
        if not self.follow or not np.any(delta):
            return
        ctl = self.vis.get_view_control()
        params = ctl.convert_to_pinhole_camera_parameters()
        ext = np.array(params.extrinsic)
        ext[:3, 3] -= ext[:3, :3] @ delta
        params.extrinsic = ext
        ctl.convert_from_pinhole_camera_parameters(params, allow_arbitrary=True)

    def _update(self, t: float) -> None:
        for g in self.scene.set_time(t):
            self.vis.update_geometry(g)
        self._follow(t)

    def _tick(self, vis) -> bool:
        now = time.perf_counter()
        dt = 0.0 if self._last is None else now - self._last
        self._last = now
        self._update(self.clock.advance(dt))
        return True

    def run(self) -> None:
        print(HELP)
        self.vis.run()
        self.vis.destroy_window()
        print()


def play(items, layout: str = "side", width: int = 1280, height: int = 720) -> None:
    """Open a window and play clips / mesh sequences (see :class:`ClipScene`)."""
    scene = items if isinstance(items, ClipScene) else ClipScene(items, layout)
    Player(scene, width, height).run()
