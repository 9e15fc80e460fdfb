"""Open3D scenes: skeletons as shaded bones and joints, meshes, point clouds, a floor grid, and a
headless renderer that returns images (legacy ``Visualizer`` with a hidden window; without a
display Open3D falls back to EGL offscreen rendering).

Skeleton bones are cylinders and joints spheres, all in one ``TriangleMesh`` per clip whose vertices
are recomputed per frame from template shapes with vectorised numpy (no per-bone objects).

Functions used by the player, ``viz/show_points.py`` and the offscreen video writer:
:func:`point_cloud_geometry`, :func:`mesh_geometry`, :func:`floor_grid_geometry`,
:func:`skeleton_geometry`, :class:`HeadlessRenderer`, :func:`render_offscreen`.
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from typing import Mapping

import numpy as np

from motion3d.render import colors as palette
from motion3d.render.camera import look_at_extrinsic, view_basis
from motion3d.render.clip import grid_segments

INSTALL_HINT = "Open3D is needed for this viewer: pip install 'motion3d[viewer]' (or open3d / open3d-cpu)"


def require_open3d():
    """Import open3d, or raise ImportError saying how to install it."""
    try:
        import open3d as o3d
    except ImportError as err:  # pragma: no cover - depends on the machine
        raise ImportError(f"{INSTALL_HINT} ({err})") from err
    return o3d


def missing_display(environ: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """Why no window can open here, or None when one can.

    On Linux (and the BSDs) a window needs an X11 (``$DISPLAY``) or Wayland (``$WAYLAND_DISPLAY``)
    display; without one Open3D falls back to an invisible EGL context whose event loop never ends,
    so an interactive player would wait forever with nothing on screen. macOS and Windows always
    have one.

    Args:
        environ: the environment to check (default ``os.environ``); platform: ``sys.platform``.
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if platform.startswith(("darwin", "win", "cygwin")):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return ("no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set): render headless "
            "instead with --offscreen OUT.mp4 (or OUT.gif), or run where a desktop session is available")


@contextlib.contextmanager
def headless_window_setup(o3d):
    """Around ``create_window`` of a hidden window: keep the expected noise of a display-less start
    off the terminal, and nothing else.

    Without a display, Open3D's GLFW 3.4 probes Wayland first: ``libwayland-client`` prints
    ``error: XDG_RUNTIME_DIR is invalid or not set in the environment.`` when that variable is unset
    (headless containers, ``sudo``, cron), then GLFW reports ``Failed to detect any supported
    platform`` (an Open3D WARNING) and Open3D announces its EGL fallback (INFO lines). All three
    are the normal path to offscreen rendering, not faults. So, only when there is no display:
    ``XDG_RUNTIME_DIR`` points at a private empty directory (0700, as the XDG spec asks) for the
    call, where the Wayland probe finds no socket quietly, and Open3D's log level is raised to
    Error for the call; both are restored afterwards. Errors (an EGL failure) still print, and a
    failed window still raises in the caller.
    """
    if missing_display() is None:
        yield
        return
    level = o3d.utility.get_verbosity_level()
    had_xdg = "XDG_RUNTIME_DIR" in os.environ
    with contextlib.ExitStack() as stack:
        if not had_xdg:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="motion3d-xdg-"))
            os.chmod(tmp, 0o700)
            os.environ["XDG_RUNTIME_DIR"] = tmp
        o3d.utility.set_verbosity_level(o3d.utility.VerbosityLevel.Error)
        try:
            yield
        finally:
            o3d.utility.set_verbosity_level(level)
            if not had_xdg:
                os.environ.pop("XDG_RUNTIME_DIR", None)


# ---------------------------------------------------------------------------------------------
# Template shapes and vectorised skeleton meshes
# ---------------------------------------------------------------------------------------------

def cylinder_template(sides: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Open unit cylinder along +Y from y=0 to y=1, radius 1.

    Returns:
        vertices (2S, 3), normals (2S, 3), triangles (2S, 3).
    """
    a = np.linspace(0.0, 2 * np.pi, sides, endpoint=False)
    ring = np.stack([np.cos(a), np.zeros(sides), np.sin(a)], 1)
    verts = np.concatenate([ring, ring + [0.0, 1.0, 0.0]])
    normals = np.concatenate([ring, ring])
    i = np.arange(sides)
    j = (i + 1) % sides
    tris = np.concatenate([np.stack([i, i + sides, j], 1), np.stack([j, i + sides, j + sides], 1)])
    return verts, normals, tris


def sphere_template(subdivisions: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Unit icosphere: vertices (V, 3) (also its normals) and triangles (F, 3)."""
    t = (1.0 + 5 ** 0.5) / 2.0
    v = np.array([[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t],
                  [0, -1, -t], [0, 1, -t], [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]], float)
    f = np.array([[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4],
                  [11, 10, 2], [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8],
                  [3, 8, 9], [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1]])
    for _ in range(subdivisions):
        edges = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
        uniq, inv = np.unique(edges, axis=0, return_inverse=True)
        mids = len(v) + inv.reshape(3, -1).T  # (F, 3) midpoint of edges 01, 12, 20
        v = np.concatenate([v, 0.5 * (v[uniq[:, 0]] + v[uniq[:, 1]])])
        a, b, c = f.T
        ab, bc, ca = mids.T
        f = np.concatenate([np.stack(x, 1) for x in ((a, ab, ca), (ab, b, bc), (ca, bc, c), (ab, bc, ca))])
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v, f


def align_y(d: np.ndarray) -> np.ndarray:
    """Rotations (..., 3, 3) taking +Y onto the unit directions ``d`` (..., 3)."""
    x, y, z = d[..., 0], d[..., 1], d[..., 2]
    flip = y < -0.999999
    y = np.where(flip, -y, y)
    x = np.where(flip, -x, x)
    z = np.where(flip, -z, z)
    k = 1.0 / (1.0 + y)
    # Rodrigues for axis (z, 0, -x) (= Y x d), cos = y
    R = np.stack([
        np.stack([1 - k * x * x, x, -k * x * z], -1),
        np.stack([-x, y, -z], -1),
        np.stack([-k * x * z, z, 1 - k * z * z], -1),
    ], -2)
    flip_m = np.diag([1.0, -1.0, -1.0])  # rotation by pi about X: takes +Y to -Y
    return np.where(flip[..., None, None], R @ flip_m, R)


class SkeletonMesh:
    """Vertices of bones (cylinders) and joints (spheres) for a skeleton, vectorised per frame.

    Args:
        parents: (J,) parent per joint, -1 for roots.
        radius: bone radius in world units (joints get 1.6x).
        bone_rgb: (B, 3) colours per bone (in the order of :attr:`bones`).
        joints: indices of the joints drawn as spheres (default all).
    """

    def __init__(self, parents: np.ndarray, radius: float, bone_rgb: np.ndarray | None = None,
                 sides: int = 10, joint_rgb=palette.JOINT, joints: np.ndarray | None = None):
        parents = np.asarray(parents)
        child = np.nonzero(parents >= 0)[0]
        self.bones = np.stack([parents[child], child], 1)  # (B, 2)
        self.radius = float(radius)
        self.joints = np.arange(len(parents)) if joints is None else np.asarray(joints)
        self.num_joints = len(self.joints)
        self.cyl_v, self.cyl_n, cyl_t = cylinder_template(sides)
        self.sph_v, sph_t = sphere_template(1)
        B, J = len(self.bones), self.num_joints
        nc, ns = len(self.cyl_v), len(self.sph_v)
        self.triangles = np.concatenate([
            (cyl_t[None] + nc * np.arange(B)[:, None, None]).reshape(-1, 3),
            (sph_t[None] + B * nc + ns * np.arange(J)[:, None, None]).reshape(-1, 3)]).astype(np.int32)
        bone_rgb = np.broadcast_to(palette.clip_color(0) if bone_rgb is None else bone_rgb, (B, 3))
        self.colors = np.concatenate([np.repeat(bone_rgb, nc, 0),
                                      np.tile(np.asarray(joint_rgb, float), (J * ns, 1))])

    def vertices(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vertices and normals (V, 3) for joint positions (J, 3)."""
        a = positions[self.bones[:, 0]]
        d = positions[self.bones[:, 1]] - a  # (B, 3)
        length = np.linalg.norm(d, axis=1)
        R = align_y(d / np.maximum(length, 1e-12)[:, None])  # (B, 3, 3)
        scale = np.stack([np.full_like(length, self.radius), length, np.full_like(length, self.radius)], 1)
        cv = np.einsum("bij,bvj->bvi", R, self.cyl_v[None] * scale[:, None]) + a[:, None]
        cn = np.einsum("bij,vj->bvi", R, self.cyl_n)
        sv = positions[self.joints, None] + 1.6 * self.radius * self.sph_v[None]
        sn = np.broadcast_to(self.sph_v, sv.shape)
        return (np.concatenate([cv.reshape(-1, 3), sv.reshape(-1, 3)]),
                np.concatenate([cn.reshape(-1, 3), sn.reshape(-1, 3)]))


# ---------------------------------------------------------------------------------------------
# Open3D geometries
# ---------------------------------------------------------------------------------------------

def _v3(a):
    o3d = require_open3d()
    return o3d.utility.Vector3dVector(np.ascontiguousarray(a, dtype=np.float64))


def skeleton_geometry(skel: SkeletonMesh, positions: np.ndarray):
    """An ``o3d.geometry.TriangleMesh`` of the skeleton at joint positions (J, 3)."""
    o3d = require_open3d()
    mesh = o3d.geometry.TriangleMesh()
    v, n = skel.vertices(positions)
    mesh.vertices, mesh.vertex_normals = _v3(v), _v3(n)
    mesh.triangles = o3d.utility.Vector3iVector(skel.triangles)
    mesh.vertex_colors = _v3(skel.colors)
    return mesh


def update_skeleton_geometry(mesh, skel: SkeletonMesh, positions: np.ndarray) -> None:
    """Move an existing skeleton mesh to new joint positions (J, 3), in place."""
    v, n = skel.vertices(positions)
    mesh.vertices, mesh.vertex_normals = _v3(v), _v3(n)


def point_cloud_geometry(points: np.ndarray, colors: np.ndarray | None = None):
    """``o3d.geometry.PointCloud`` from points (P, 3) and optional RGB colours (P, 3) or (3,) in [0, 1]."""
    o3d = require_open3d()
    pc = o3d.geometry.PointCloud()
    pc.points = _v3(points)
    if colors is not None:
        pc.colors = _v3(np.broadcast_to(np.asarray(colors, float), np.shape(points)))
    return pc


def mesh_geometry(vertices: np.ndarray, faces: np.ndarray, colors: np.ndarray | None = None):
    """``o3d.geometry.TriangleMesh`` from vertices (V, 3), faces (F, 3) and optional colours (V, 3) or (3,)."""
    o3d = require_open3d()
    mesh = o3d.geometry.TriangleMesh()
    mesh.vertices = _v3(vertices)
    mesh.triangles = o3d.utility.Vector3iVector(np.ascontiguousarray(faces, dtype=np.int32))
    mesh.compute_vertex_normals()
    rgb = palette.PALETTE[0] * 0.5 + 0.45 if colors is None else colors
    mesh.vertex_colors = _v3(np.broadcast_to(np.asarray(rgb, float), np.shape(vertices)))
    return mesh


def update_mesh_geometry(mesh, vertices: np.ndarray) -> None:
    """Move an existing mesh's vertices (V, 3) and recompute its normals, in place."""
    mesh.vertices = _v3(vertices)
    mesh.compute_vertex_normals()


def grid_lines(center_xz, floor: float, step: float, half_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Floor grid as points (P, 3) and line index pairs (L, 2), centred (snapped) at ``center_xz``."""
    seg = grid_segments(np.asarray(center_xz, float)[None], floor, step, half_cells)[0]  # (L, 2, 3)
    return seg.reshape(-1, 3), np.arange(2 * len(seg)).reshape(-1, 2)


def floor_grid_geometry(center_xz, floor: float, step: float, half_cells: int = 10, color=palette.GRID * 0.8):
    """``o3d.geometry.LineSet`` floor grid at height ``floor`` with ``step`` spacing."""
    o3d = require_open3d()
    pts, lines = grid_lines(center_xz, floor, step, half_cells)
    ls = o3d.geometry.LineSet(_v3(pts), o3d.utility.Vector2iVector(lines.astype(np.int32)))
    ls.colors = _v3(np.broadcast_to(np.asarray(color, float), (len(lines), 3)))
    return ls


def update_floor_grid(ls, center_xz, floor: float, step: float, half_cells: int) -> None:
    """Re-centre a floor grid LineSet (same number of lines) in place."""
    pts, _ = grid_lines(center_xz, floor, step, half_cells)
    ls.points = _v3(pts)


# ---------------------------------------------------------------------------------------------
# Cameras and headless rendering
# ---------------------------------------------------------------------------------------------

def pinhole(width: int, height: int, fov_deg: float, extrinsic: np.ndarray):
    """``o3d.camera.PinholeCameraParameters`` for a vertical field of view and a (4, 4) extrinsic."""
    o3d = require_open3d()
    f = 0.5 * height / np.tan(np.deg2rad(fov_deg) / 2.0)
    params = o3d.camera.PinholeCameraParameters()
    params.intrinsic = o3d.camera.PinholeCameraIntrinsic(width, height, f, f, width / 2.0 - 0.5, height / 2.0 - 0.5)
    params.extrinsic = extrinsic
    return params


def set_view(vis, width: int, height: int, eye, target, fov_deg: float = 40.0) -> None:
    """Point a legacy visualizer's camera from ``eye`` at ``target`` (Y up)."""
    ctl = vis.get_view_control()
    ctl.convert_from_pinhole_camera_parameters(
        pinhole(width, height, fov_deg, look_at_extrinsic(eye, target)), allow_arbitrary=True)


def configure(vis, background=palette.BACKGROUND, point_size: float = 3.0, line_width: float = 1.0) -> None:
    """Render options shared by the player and the headless renderer."""
    opt = vis.get_render_option()
    opt.background_color = np.asarray(background, float)
    opt.point_size = point_size
    opt.line_width = line_width
    opt.mesh_show_back_face = True
    opt.light_on = True


class HeadlessRenderer:
    """Render Open3D geometries to images without a display.

    Uses the legacy ``Visualizer`` with a hidden window; with no display Open3D renders through an
    EGL offscreen context. Add geometries once, move them (``update``) and the camera per frame,
    and read :meth:`render`.
    """

    def __init__(self, width: int = 640, height: int = 480, **options):
        o3d = require_open3d()
        self.width, self.height = width, height
        self.vis = o3d.visualization.Visualizer()
        with headless_window_setup(o3d):
            created = self.vis.create_window(window_name="motion3d", width=width, height=height, visible=False)
        if not created:
            raise RuntimeError("Open3D could not create an offscreen window (no display and no EGL)")
        configure(self.vis, **options)
        self._scratch = None

    def add(self, geometry, reset_bounding_box: bool = True) -> None:
        """Add a geometry; the scene bounds (which set the clipping planes) grow to include it."""
        self.vis.add_geometry(geometry, reset_bounding_box=reset_bounding_box)

    def update(self, geometry) -> None:
        self.vis.update_geometry(geometry)

    def look_at(self, eye, target, fov_deg: float = 40.0) -> None:
        set_view(self.vis, self.width, self.height, eye, target, fov_deg)

    def render(self) -> np.ndarray:
        """The current view as (H, W, 3) uint8 RGB.

        One render per call: ``capture_screen_float_buffer(do_render=True)`` draws the scene itself
        (``poll_events`` + ``update_renderer`` first would draw it twice).
        """
        buf = np.asarray(self.vis.capture_screen_float_buffer(do_render=True))
        if self._scratch is None or self._scratch.shape != buf.shape:
            self._scratch = np.empty(buf.shape, np.float32)
        np.multiply(buf, 255.0, out=self._scratch)
        np.add(self._scratch, 0.5, out=self._scratch)
        return self._scratch.astype(np.uint8)

    def close(self) -> None:
        if self.vis is not None:
            self.vis.destroy_window()
            self.vis = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def default_view(geometries_bounds: tuple[np.ndarray, np.ndarray], azimuth: float = 35.0,
                 elevation: float = 20.0, fov_deg: float = 40.0) -> tuple[np.ndarray, np.ndarray]:
    """Eye and target that frame an axis-aligned box ((3,) min, (3,) max)."""
    lo, hi = geometries_bounds
    target = 0.5 * (lo + hi)
    radius = 0.5 * np.linalg.norm(hi - lo)
    dist = 1.1 * radius / np.sin(np.deg2rad(fov_deg) / 2.0)
    return target + dist * view_basis(azimuth, elevation)[2], target


def bounds(geometries) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned bounds ((3,), (3,)) of Open3D geometries."""
    lo = np.min([np.asarray(g.get_min_bound()) for g in geometries], 0)
    hi = np.max([np.asarray(g.get_max_bound()) for g in geometries], 0)
    return lo, hi


def render_offscreen(geometries, width: int = 640, height: int = 480, eye=None, target=None,
                     fov_deg: float = 40.0, azimuth: float = 35.0, elevation: float = 20.0,
                     **options) -> np.ndarray:
    """Render geometries once, headless; returns (H, W, 3) uint8.

    Without ``eye``/``target`` the camera frames all geometries from (azimuth, elevation).
    """
    geometries = list(geometries)
    if eye is None or target is None:
        eye, target = default_view(bounds(geometries), azimuth, elevation, fov_deg)
    with HeadlessRenderer(width, height, **options) as r:
        for g in geometries:
            r.add(g)
        r.look_at(eye, target, fov_deg)
        return r.render()
