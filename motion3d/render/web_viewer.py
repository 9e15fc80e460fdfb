"""The served browser viewer: a :class:`~motion3d.render.web.WebScene` on a viser server with
playback controls in the page, and folders watched for new files.

    viewer = Viewer(["samples/", "ref.bvh"], port=8080)   # PortInUse when the port is taken
    print(viewer.url)
    viewer.run()                                           # until Ctrl-C

GUI (viser's side panel): Play/Pause, a frame slider (frames of the highest clip rate), speed,
loop, follow camera, and one checkbox per clip. Playback runs on a thread at
:data:`motion3d.render.web.DISPLAY_FPS`; each clip shows its own frame at the current time, so clips
at different rates stay in sync. Watched folders are polled; a new file (hidden temporary files of
atomic writes excepted) is read and the scene rebuilt with it, without restarting the server.
"""
from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import numpy as np

from motion3d.render.web import (DISPLAY_FPS, WebScene, check_port, find_view_files, load_view_item,
                                 new_server, stop_server)
from motion3d.io import FormatError
from motion3d.render.smpl_mesh import SMPLModelMissing

SPEEDS = ("0.25", "0.5", "1", "2", "4")


def label_from_filename(path: str | os.PathLike) -> str:
    """A clip label from its file name: the stem with ``_``/``-`` as spaces and a trailing sample
    number dropped (``walk_angry_003.bvh`` -> ``walk angry``)."""
    stem = Path(path).stem
    text = re.sub(r"[_\-\s]*\d+$", "", stem) or stem
    return re.sub(r"[_\-]+", " ", text).strip() or stem


def expand_paths(paths) -> tuple[list[Path], list[Path]]:
    """(files, folders): the files given and those found in the folders given (sorted)."""
    files, dirs = [], []
    for p in map(Path, paths):
        if p.is_dir():
            dirs.append(p)
            files += find_view_files(p)
        else:
            files.append(p)
    return files, dirs


class Viewer:
    """A live viewer on ``host:port``.

    Args:
        paths: files and folders (folders are read, then watched for new files).
        port, host: where to listen; the port is checked first (:func:`check_port`).
        layout: ``"side"`` or ``"overlay"``.
        label_from_filename: clip labels from :func:`label_from_filename` instead of the file stem.
        model_dir: SMPL-H body models for AMASS files.
        poll_seconds: how often watched folders are scanned.
        log: where messages go (``print``); unreadable files are reported there and skipped.
    """

    def __init__(self, paths, port: int = 8080, host: str = "0.0.0.0", layout: str = "side",
                 label_from_filename: bool = False, model_dir=None, poll_seconds: float = 1.0, log=print):
        check_port(port, host)
        self.layout, self.model_dir, self.label = layout, model_dir, label_from_filename
        self.log = log
        self.poll_seconds = poll_seconds
        files, self.watch_dirs = expand_paths(paths)
        self.seen: set[Path] = set()
        self.items: list = []
        self.errors: list[str] = []
        self._read(files)
        if not self.items and not self.watch_dirs:
            raise FormatError(files[0] if files else Path("."), "no file could be shown" +
                              (": " + "; ".join(self.errors) if self.errors else ""))
        self.server = new_server(host, port)
        self.port = self.server.get_port()
        self.lock = threading.RLock()
        self.time = 0.0
        self.playing = True
        self._setting = False
        self.scene = None
        self.clip_boxes: list = []
        self._build_gui()
        self._rebuild()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._play_loop, daemon=True),
                         threading.Thread(target=self._watch_loop, daemon=True)]
        for t in self._threads:
            t.start()

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    # -- files ------------------------------------------------------------------------------
    def _read(self, files) -> int:
        n = 0
        for f in files:
            f = Path(f)
            self.seen.add(f.resolve())
            try:
                item = load_view_item(f, self.model_dir)
            except (FormatError, SMPLModelMissing) as err:
                self.errors.append(str(err))
                self.log(f"error: {err}")
                continue
            if self.label:
                item.name = label_from_filename(f)
            names = {it.name for it in self.items}
            base, k = item.name, 2
            while item.name in names:  # scene-tree names must be unique
                item.name, k = f"{base} ({k})", k + 1
            self.items.append(item)
            n += 1
        return n

    def poll(self) -> int:
        """Read new files in the watched folders; returns how many were added (scene rebuilt then)."""
        new = [f for d in self.watch_dirs for f in find_view_files(d) if f.resolve() not in self.seen]
        if not new:
            return 0
        with self.lock:
            n = self._read(new)
            if n:
                self.log(f"added {n} file(s): {', '.join(f.name for f in new)}")
                self._rebuild()
        return n

    # -- GUI --------------------------------------------------------------------------------
    def _build_gui(self) -> None:
        gui = self.server.gui
        self.play_button = gui.add_button("Pause")
        self.play_button.on_click(lambda _: self.set_playing(not self.playing))
        self.slider = gui.add_slider("Frame", min=0, max=1, step=1, initial_value=0)
        self.slider.on_update(self._on_slider)
        self.speed = gui.add_dropdown("Speed", SPEEDS, initial_value="1")
        self.loop = gui.add_checkbox("Loop", True)
        self.follow = gui.add_checkbox("Follow camera", False)
        self.clip_folder = gui.add_folder("Clips")

    def _rebuild(self) -> None:
        with self.lock:
            if self.scene is not None:
                self.scene.remove()
            for box in self.clip_boxes:
                box.remove()
            self.clip_boxes = []
            if not self.items:
                self.scene = None
                return
            self.scene = WebScene(self.server, self.items, layout=self.layout)
            self.num_frames = max(1, int(round(self.scene.duration * self.scene.fps)))
            self._setting = True
            self.slider.max = max(self.num_frames - 1, 1)
            self._setting = False
            with self.clip_folder:
                for k, node in enumerate(self.scene.nodes):
                    box = self.server.gui.add_checkbox(node.name, True)
                    box.on_update(lambda ev, k=k: self.scene.set_visible(k, ev.target.value))
                    self.clip_boxes.append(box)
            self.time = min(self.time, self.scene.duration)
            self.scene.set_time(self.time)

    def _on_slider(self, _event) -> None:
        if self._setting or self.scene is None:
            return
        with self.lock:
            self.playing = False
            self.play_button.label = "Play"
            self.time = float(self.slider.value) / self.scene.fps
            self.scene.set_time(self.time)

    def set_playing(self, playing: bool) -> None:
        self.playing = playing
        self.play_button.label = "Pause" if playing else "Play"

    @property
    def frame(self) -> int:
        """The current frame (of the highest clip rate)."""
        if self.scene is None:
            return 0
        return int(np.clip(np.floor(self.time * self.scene.fps + 1e-9), 0, self.num_frames - 1))

    # -- threads ----------------------------------------------------------------------------
    def step(self, dt: float) -> None:
        """Advance playback by ``dt`` wall seconds (times the speed) and pose the scene."""
        with self.lock:
            sc = self.scene
            if sc is None:
                return
            if self.playing:
                self.time += dt * float(self.speed.value)
                if self.time >= sc.duration:
                    if self.loop.value:
                        self.time %= max(sc.duration, 1e-9)
                    else:
                        self.time = sc.duration
                        self.set_playing(False)
            sc.set_time(self.time)
            self._setting = True
            self.slider.value = self.frame
            self._setting = False
            if self.follow.value:
                eye, target = sc.view(self.time, follow=True)
                for client in self.server.get_clients().values():
                    client.camera.look_at = target
                    client.camera.position = eye

    def _play_loop(self) -> None:
        period = 1.0 / DISPLAY_FPS
        last = time.perf_counter()
        while not self._stop.wait(period):
            now = time.perf_counter()
            self.step(now - last)
            last = now

    def _watch_loop(self) -> None:
        while self.watch_dirs and not self._stop.wait(self.poll_seconds):
            try:
                self.poll()
            except Exception as err:  # a watcher must not die on one bad poll (a folder removed)
                self.log(f"error: watching {', '.join(map(str, self.watch_dirs))}: {err}")

    def run(self) -> None:
        """Block until Ctrl-C, then stop."""
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=2)
        stop_server(self.server)
