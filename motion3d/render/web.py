"""Browser scenes with viser: skeleton clips, mesh sequences, point clouds and meshes, served live
or saved as one self-contained HTML file.

    scene = WebScene(server, items, layout="side")    # build the nodes on a viser server
    scene.set_time(2.5)                                # pose every clip at 2.5 s (each at its own fps)
    export_html(items, "out.html")                     # one offline page that plays the animation

Layout, scale and floor come from :class:`~motion3d.render.open3d_clips.ClipScene` (the Open3D
player's own placement, which imports no Open3D itself), so the browser shows what the player and
the MP4s show. Clips are Y up (readers turn Z-up files upright at load time); the viser scene is
set to +Y up. Skeletons are bones (line segments, coloured per clip and side) and joints (a point
cloud), with orange markers on the floor where a foot is in contact
(:func:`motion3d.ops.contacts.foot_contacts`).

Recorded pages: viser's standalone player replays a timed list of messages. One message per clip
and node per *display* frame: the recording samples time at ``display_fps`` (default
:data:`DISPLAY_FPS`, at most the clip rate), so a 10-minute 120 fps clip stays a page of a few MB
that plays in real time (the clip's time advances one second per second; each displayed frame is
the clip's frame at that time) instead of 72,000 updates a browser could not show anyway.
"""
from __future__ import annotations

import contextlib
import io
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import viser

from motion3d.io import FormatError, registry
from motion3d.ops.contacts import foot_contacts
from motion3d.ops.joints import find_feet
from motion3d.outputs import atomic_output
from motion3d.render import colors as palette
from motion3d.render import sources
from motion3d.render.clip import Clip, from_motion, nice_step
from motion3d.render.open3d_clips import ClipScene, MeshSequence
from motion3d.skeleton import Skeleton

#: default frame rate of recorded (HTML) pages: the clip's time runs in real time, sampled this often
DISPLAY_FPS = 30.0
#: contact marker colour (RGB 0..1)
CONTACT_COLOR = np.array([1.0, 0.55, 0.0])
#: what the viewer reads: motions, joint arrays, point clouds and meshes
KINDS = ("motion", "joints", "points", "mesh")
SUPPORTED = registry.suffixes(KINDS)


class PortInUse(OSError):
    """The port a viewer should listen on is taken."""


@dataclass
class Shape:
    """A static point cloud or mesh: points (N, 3) (a mesh's vertices), faces (F, 3) or None, Y up."""

    points: np.ndarray
    faces: np.ndarray | None = None
    name: str = ""
    colors: np.ndarray | None = None  # (N, 3) uint8, or None for the item colour


def load_view_item(path: str | os.PathLike, model_dir: str | os.PathLike | None = None, fps: float | None = None,
                   up: str = "auto"):
    """One file for the browser: a Clip / MeshSequence (:func:`motion3d.render.sources.load_item`)
    or a :class:`Shape` (point clouds and meshes through :mod:`motion3d.io.registry`).

    ``up``: a BVH file's up axis (``motion3d.io.bvh.load``); ``"auto"`` (default) detects it from
    the pose, so Z-up rigs (iClone, CMU conversions) stand upright like the others.

    Raises:
        FormatError: unknown or malformed file (naming it).
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(path, "no such file")
    fmt = registry.detect(path, KINDS)
    if fmt.name == "bvh":
        clip = from_motion(fmt.load(path, up=up), path.stem)
        if fps:
            clip.fps = float(fps)
        return clip
    if fmt.kind in ("motion", "joints"):
        return sources.load_item(path, model_dir, mesh=True, fps=fps)
    if fmt.kind == "mesh":
        m = fmt.load(path)
        return Shape(np.asarray(m.vertices, np.float32), np.asarray(m.faces, np.int64), path.stem)
    pts = fmt.load(path)
    return Shape(np.asarray(pts[:, :3], np.float32), None, path.stem)


def load_view_items(paths, model_dir=None, fps: float | None = None, up: str = "auto") -> tuple[list, list[str]]:
    """:func:`load_view_item` for several files. A file that cannot be read does not stop the others.

    Returns:
        (items, errors): the items read, and one message per file that failed (the FormatError's
        text, which names the file).
    """
    items, errors = [], []
    for p in paths:
        try:
            items.append(load_view_item(p, model_dir, fps, up))
        except (FormatError, sources.SMPLModelMissing) as err:
            errors.append(str(err))
    return items, errors


def find_view_files(directory: str | os.PathLike) -> list[Path]:
    """Files under ``directory`` (recursively, sorted) with a suffix the viewer reads; hidden files
    (a tool's half-written ``.name.tmp.bvh``, :class:`motion3d.outputs.AtomicFile`) are left out."""
    return sorted(p for p in Path(directory).rglob("*")
                  if p.is_file() and p.suffix.lower() in SUPPORTED and not p.name.startswith("."))


def check_port(port: int, host: str = "0.0.0.0") -> None:
    """Raise :class:`PortInUse` with a clear message when ``port`` cannot be bound on ``host``.

    viser itself moves silently to the next free port; the viewer asks first so the printed URL
    and ``ssh -L`` line are the ones that work.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, int(port)))
        except OSError as err:
            raise PortInUse(f"port {port} is in use ({err.strerror or err}); choose another with --port") from None


def clip_contacts(clip: Clip) -> tuple[np.ndarray, np.ndarray]:
    """Foot joints and their contacts of a clip: ``(F,)`` indices, ``(T, F)`` bool.

    :func:`motion3d.ops.contacts.foot_contacts` on the clip's positions, with a rest skeleton built
    from frame 0 (the thresholds scale with its height). No foot joints by name: no contacts.
    """
    if clip.names is None:
        return np.zeros(0, np.int64), np.zeros((clip.num_frames, 0), bool)
    pos = clip.positions
    off = pos[0] - np.where(clip.parents[:, None] >= 0, pos[0][np.maximum(clip.parents, 0)], 0.0)
    try:
        sk = Skeleton([str(n) for n in clip.names], clip.parents, off)
        feet = np.asarray(find_feet(sk), np.int64)
    except ValueError:
        return np.zeros(0, np.int64), np.zeros((clip.num_frames, 0), bool)
    contacts = foot_contacts(SimpleNamespace(skeleton=sk, fps=clip.fps), positions=pos)
    return feet, np.asarray(contacts, bool)


class _Node:
    """One item of a :class:`WebScene` with its per-frame arrays and viser handles."""

    def __init__(self, track, color: np.ndarray, floor: float, height: float):
        self.track = track
        self.item = track.item
        self.name = track.name
        self.color = color
        world = ((track.points - track.pivot) * track.scale + track.pivot + track.offset).astype(np.float32)
        self.frame = -1
        self.handles: list = []
        if isinstance(self.item, MeshSequence):
            self.vertices = world  # (T, V, 3)
            return
        clip = self.item
        self.bones = clip.bones()
        self.segments = world[:, self.bones]  # (T, B, 2, 3)
        self.joints_idx = clip.drawn_joints()
        self.joints = world[:, self.joints_idx]  # (T, J', 3)
        colors = palette.bone_colors(color, clip.sides())  # (B, 3)
        self.bone_colors = np.repeat(palette.to_uint8(colors)[:, None], 2, axis=1)  # (B, 2, 3)
        feet, contacts = clip_contacts(clip)
        self.contacts = contacts  # (T, F)
        marks = world[:, feet].copy()  # (T, F, 3) feet projected onto the common floor
        marks[..., 1] = floor + 0.002 * height
        self.marks = marks
        self.radius = 0.015 * height

    def build(self, scene, prefix: str, visible: bool = True) -> None:
        base = f"{prefix}/{self.name}"
        if isinstance(self.item, MeshSequence):
            self.mesh = scene.add_mesh_simple(f"{base}/mesh", self.vertices[0], self.item.faces.astype(np.uint32),
                                              color=tuple(int(v) for v in palette.to_uint8(0.55 * self.color + 0.4)),
                                              visible=visible)
            self.handles = [self.mesh]
        else:
            self.bones_h = scene.add_line_segments(f"{base}/bones", self.segments[0], self.bone_colors,
                                                   thickness=2 * self.radius, visible=visible)
            self.joints_h = scene.add_point_cloud(f"{base}/joints", self.joints[0],
                                                  palette.to_uint8(0.6 * self.color),
                                                  point_size=2.6 * self.radius, point_shape="circle",
                                                  visible=visible)
            self.marks_h = [scene.add_point_cloud(f"{base}/contact{k}", self.marks[0, k][None],
                                                  palette.to_uint8(CONTACT_COLOR), point_size=5 * self.radius,
                                                  point_shape="circle", point_shading="flat",
                                                  visible=bool(visible and self.contacts[0, k]))
                            for k in range(self.contacts.shape[1])]
            self.handles = [self.bones_h, self.joints_h] + self.marks_h
        self.frame = 0
        self.visible = visible

    def set_frame(self, f: int) -> None:
        """Pose the node at frame ``f`` (only what changed is sent)."""
        if f == self.frame:
            return
        prev, self.frame = self.frame, f
        if isinstance(self.item, MeshSequence):
            self.mesh.vertices = self.vertices[f]
            return
        self.bones_h.points = self.segments[f]
        self.joints_h.points = self.joints[f].astype(np.float16)
        on_before, on_now = self.contacts[prev], self.contacts[f]
        for k in np.nonzero(on_before != on_now)[0]:
            if on_now[k]:
                self.marks_h[k].points = self.marks[f, k][None].astype(np.float16)
            self.marks_h[k].visible = bool(self.visible and on_now[k])

    def set_visible(self, visible: bool) -> None:
        self.visible = visible
        for h in self.handles[:2]:
            h.visible = visible
        if not isinstance(self.item, MeshSequence):
            for k, h in enumerate(self.marks_h):
                h.visible = bool(visible and self.contacts[self.frame, k])


class WebScene:
    """Items as a viser scene: animated clips / mesh sequences laid out like the Open3D player,
    static shapes in a row beside them, a floor grid and a camera that frames everything.

    Args:
        server: a ``viser.ViserServer``.
        items: Clips, Motions, MeshSequences and :class:`Shape` s.
        layout: ``"side"`` or ``"overlay"`` (clips; shapes always stand in a row).
        prefix: scene-tree folder of the nodes.
    """

    def __init__(self, server, items, layout: str = "side", prefix: str = "/m3d"):
        self.server = server
        self.prefix = prefix
        items = list(items)
        self.shapes = [it for it in items if isinstance(it, Shape)]
        anim = [it for it in items if not isinstance(it, Shape)]
        if not anim and not self.shapes:
            raise ValueError("nothing to show: no clip, mesh sequence or shape")
        self.clips = ClipScene(anim, layout=layout) if anim else None
        if self.clips is not None:
            c = self.clips
            self.height, self.floor = c.height, c.floor
            self.nodes = [_Node(tr, palette.clip_color(k), c.floor, c.height) for k, tr in enumerate(c.tracks)]
            self.duration, self.fps = c.duration, c.fps
        else:
            self.height, self.floor = 1.0, 0.0
            self.nodes, self.duration, self.fps = [], 0.0, 0.0
        self._place_shapes()
        self.build()

    def _place_shapes(self) -> None:
        """Shapes scaled to the clips' height (their own size without clips), standing on the floor
        in a row to the right of the clips."""
        x = 0.0
        if self.clips is not None:
            x = float(np.nanmax([np.nanmax(n.track.world(0, n.track.body)[:, 0]) for n in self.nodes]))
            x += 0.6 * self.height
        self.shape_points = []
        if self.shapes and self.clips is None:
            self.height = max(float(np.ptp(s.points, axis=0).max()) for s in self.shapes) or 1.0
        for s in self.shapes:
            p = np.asarray(s.points, np.float64)
            lo, hi = p.min(0), p.max(0)
            scale = self.height / max(float((hi - lo).max()), 1e-9)
            q = (p - lo) * scale
            q[:, 0] += x
            q[:, 1] += self.floor
            q[:, 2] -= 0.5 * (hi - lo)[2] * scale
            x += float(q[:, 0].max() - q[:, 0].min()) + 0.4 * self.height
            self.shape_points.append(q.astype(np.float32))

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(3,), (3,): the box every item covers over the whole animation."""
        pts = [q for q in self.shape_points]
        for n in self.nodes:
            body = (n.track.body - n.track.pivot) * n.track.scale + n.track.pivot + n.track.offset
            pts.append(np.stack([np.nanmin(body, axis=(0, 1)), np.nanmax(body, axis=(0, 1))]))
        allp = np.concatenate([p.reshape(-1, 3) for p in pts])
        return np.nanmin(allp, 0), np.nanmax(allp, 0)

    def build(self) -> None:
        """Create every node (clips at time 0), the grid and the initial camera."""
        scene = self.server.scene
        scene.set_up_direction("+y")
        lo, hi = self.bounds()
        step = nice_step(self.height / 2.0)
        size = float(np.max((hi - lo)[[0, 2]])) + 3.0 * self.height
        size = np.ceil(size / step) * step
        centre = 0.5 * (lo + hi)
        scene.add_grid(f"{self.prefix}/floor", width=size, height=size, plane="xz", cell_size=step,
                       section_size=5 * step, position=(float(centre[0]), self.floor, float(centre[2])),
                       shadow_opacity=0.0, fade_distance=50.0 * size)
        for n in self.nodes:
            n.build(scene, self.prefix)
            top = n.track.world(0, n.track.body)
            scene.add_label(f"{self.prefix}/{n.name}/label", n.name,
                            position=(float(np.nanmean(top[:, 0])), float(np.nanmax(top[:, 1])) + 0.15 * self.height,
                                      float(np.nanmean(top[:, 2]))))
        for k, (s, q) in enumerate(zip(self.shapes, self.shape_points)):
            color = tuple(int(v) for v in palette.to_uint8(palette.clip_color(len(self.nodes) + k)))
            if s.faces is not None:
                scene.add_mesh_simple(f"{self.prefix}/shape{k}_{s.name}", q, s.faces.astype(np.uint32), color=color)
            else:
                scene.add_point_cloud(f"{self.prefix}/shape{k}_{s.name}", q, color,
                                      point_size=0.006 * self.height, point_shape="circle")
        eye, target = self.view()
        self.server.initial_camera.position = eye
        self.server.initial_camera.look_at = target

    def view(self, seconds: float = 0.0, follow: bool = False, fov_deg: float = 75.0) -> tuple[np.ndarray, np.ndarray]:
        """Camera (eye, target): the whole scene in view from the front-right and above; ``follow``
        looks at the clips at ``seconds`` (:meth:`ClipScene.target`) from the same direction."""
        lo, hi = self.bounds()
        target = 0.5 * (lo + hi)
        target[1] = self.floor + 0.5 * self.height
        extent = max(float(hi[0] - lo[0]), self.height * 1.2)
        if follow and self.clips is not None:
            target = self.clips.target(seconds).copy()
            extent = max(self.height * 1.3, float(self.clips.group_width) + 0.4 * self.height)
        dist = 0.55 * extent / np.tan(np.deg2rad(fov_deg) / 2.0) + 0.6 * self.height
        d = np.array([0.35, 0.3, 1.0])
        return target + dist * d / np.linalg.norm(d), target

    def frames_at(self, seconds: float) -> list[int]:
        """The frame each clip shows at ``seconds`` (its own fps; the last frame holds)."""
        return [int(n.item.frame_at(seconds)) for n in self.nodes]

    def set_time(self, seconds: float) -> None:
        """Pose every clip at ``seconds``."""
        for n, f in zip(self.nodes, self.frames_at(seconds)):
            n.set_frame(f)

    def set_visible(self, k: int, visible: bool) -> None:
        """Show or hide clip ``k``."""
        self.nodes[k].set_visible(visible)

    def remove(self) -> None:
        """Remove every node of this scene from the server."""
        self.server.scene.reset()


def recording_times(duration: float, clip_fps: float, display_fps: float | None = None) -> tuple[float, np.ndarray]:
    """Display rate and the times (N,) a recording shows: ``display_fps`` (default
    :data:`DISPLAY_FPS`), never above the clips' highest rate, over ``duration`` seconds."""
    rate = float(display_fps or DISPLAY_FPS)
    if clip_fps > 0:
        rate = min(rate, clip_fps)
    n = max(1, int(round(duration * rate))) if duration > 0 else 1
    return rate, np.arange(n) / rate


def record_html(scene: WebScene, display_fps: float | None = None, dark_mode: bool = False) -> tuple[str, dict]:
    """The scene's animation as one standalone HTML page (viser's embedded client, no network).

    Returns:
        (html, info) with info ``{"display_fps", "frames", "duration"}``.
    """
    server = scene.server
    serializer = server.get_scene_serializer()
    rate, times = recording_times(scene.duration, scene.fps, display_fps)
    # one viser message per changed node and displayed frame: viser's recording API is per message
    for t in times[1:]:
        serializer.insert_sleep(1.0 / rate)
        scene.set_time(float(t))
    if scene.duration > 0:
        serializer.insert_sleep(max(scene.duration - float(times[-1]), 1.0 / rate))
    html = serializer.as_html(dark_mode=dark_mode)
    return html, {"display_fps": rate, "frames": len(times), "duration": scene.duration}


def new_server(host: str = "127.0.0.1", port: int = 0, verbose: bool = False):
    """A viser server (``port=0``: any free port; for recordings that no browser connects to)."""
    with contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO()):
        return viser.ViserServer(host=host, port=port, verbose=verbose)


def stop_server(server, verbose: bool = False) -> None:
    """Stop a server from :func:`new_server` (quietly unless ``verbose``)."""
    with contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO()):
        server.stop()


def export_html(items, path: str | os.PathLike, layout: str = "side", display_fps: float | None = None,
                dark_mode: bool = False) -> dict:
    """Write ``items`` as one self-contained HTML page that plays with no server and no network.

    The page is written under a temporary name and renamed when complete; check the path first
    with :func:`motion3d.outputs.check_output`.

    Returns:
        ``{"path", "bytes", "display_fps", "frames", "duration"}``.
    """
    server = new_server()
    try:
        scene = WebScene(server, items, layout=layout)
        html, info = record_html(scene, display_fps, dark_mode)
    finally:
        stop_server(server)
    with atomic_output(path) as tmp:
        Path(tmp).write_text(html, encoding="utf-8")
    return {"path": str(path), "bytes": len(html), **info}
