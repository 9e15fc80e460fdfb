"""Show point clouds or meshes: an Open3D window, or ``--offscreen out.png`` with no display.

    python viz/show_points.py FILE|DIR [more ...] [--ckpt best.ckpt] [--offscreen out.png] [--max 16]
                              [--up auto|y|z]

A DIR shows its point-cloud / mesh files (recursively, up to ``--max``; how many were left out is
printed) side by side in a grid, each named.
Shapes are shown Y up. ``--up z`` turns Z-up data upright (motion3d.ops.axes.Z_UP_TO_Y_UP);
``--up auto`` (the default) decides per file by convention, never by the shape (the flattest axis
of a sofa or a table is not its up axis): Z up for ModelNet (any file under a folder named
``modelnet*``), STL (CAD and 3D printing), OFF (ModelNet's and the Princeton benchmark's format)
and PCD (PCL/ROS, REP 103: Z up); Y up for everything else (OBJ, PLY, glTF, NumPy arrays).
With ``--ckpt`` (a classification checkpoint) each shape is coloured by its predicted class and the
prediction is printed. Offscreen rendering uses Open3D's renderer when it works on this machine,
else matplotlib (printed), so a PNG always comes out. The image is checked before any work (never
an input; an existing file only with --force) and written under a temporary name, renamed when
complete.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from motion3d.io import mesh as mesh_io  # noqa: E402
from motion3d.io import registry  # noqa: E402
from motion3d.ops.axes import Z_UP_TO_Y_UP  # noqa: E402
from motion3d.outputs import OutputError, atomic_output, check_output  # noqa: E402
from motion3d.points.ops import normalize_np  # noqa: E402

SUFFIXES = set(registry.suffixes(("points", "mesh")))


#: --up auto: file types whose convention is Z up (see the module docstring)
Z_UP_SUFFIXES = (".stl", ".off", ".pcd")


def guess_up(path: Path) -> str:
    """``"z"`` or ``"y"``: the up axis of a file by dataset, then format convention (--up auto)."""
    if any(part.lower().startswith("modelnet") for part in Path(path).parts):
        return "z"
    return "z" if Path(path).suffix.lower() in Z_UP_SUFFIXES else "y"


def to_y_up(points: np.ndarray, up: str) -> np.ndarray:
    """(N, 3) points of a ``up``-axis ("y" or "z") shape, Y up."""
    return points @ Z_UP_TO_Y_UP.T if up == "z" else points


def collect(paths: list[str], limit: int) -> list[Path]:
    """The files to show, at most ``limit``; prints how many more were found and left out."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES)
        else:
            files.append(p)
    if not files:
        raise SystemExit(f"no point-cloud or mesh files in {paths}")
    if len(files) > limit:
        print(f"showing {limit} of {len(files)} files; {len(files) - limit} not shown (raise --max to see more)")
    return files[:limit]


def load_item(path: Path, n: int, up: str = "y"):
    """-> (points (n, 3) normalised for prediction and display, mesh vertices (V, 3) and faces
    (F, 3) or None), turned Y up from ``up``."""
    from motion3d.data.pointclouds import KINDS, load_shape
    pts = to_y_up(load_shape(path, n), up).astype(np.float32)
    is_mesh = registry.detect(path, KINDS).kind == "mesh"
    mesh = None
    if is_mesh:
        m = mesh_io.load(path)
        mesh = (to_y_up(np.asarray(m.vertices, np.float64), up), np.asarray(m.faces, np.int32))
    return pts, mesh


def predict(ckpt: str, clouds: np.ndarray) -> tuple[list[str], np.ndarray]:
    import torch

    from motion3d.evaluate.classify import load_model
    from motion3d.tasks.checkpoint import load_checkpoint
    from motion3d.tasks.classify import predict_proba
    model, names = load_model(load_checkpoint(ckpt), ckpt)
    probs = predict_proba(model, torch.from_numpy(clouds))
    return names, probs.numpy()


def class_colours(k: int) -> np.ndarray:
    import matplotlib
    cmap = matplotlib.colormaps["tab10" if k <= 10 else "tab20"]
    return np.array([cmap(i % cmap.N)[:3] for i in range(k)])


def grid_offsets(count: int, spacing: float = 2.4) -> np.ndarray:
    cols = int(np.ceil(np.sqrt(count)))
    i = np.arange(count)
    return np.stack([(i % cols) * spacing, -(i // cols) * spacing, np.zeros(count)], 1)


def render_matplotlib(clouds, colours, labels, out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    n = len(clouds)
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    fig = plt.figure(figsize=(3 * cols, 3 * rows))
    for i, (p, c, lab) in enumerate(zip(clouds, colours, labels)):
        ax = fig.add_subplot(rows, cols, i + 1, projection="3d")
        ax.scatter(p[:, 0], p[:, 2], p[:, 1], s=1.5, c=[c])          # Y up on screen
        ax.set_title(lab, fontsize=8)
        ax.set_box_aspect((1, 1, 1))
        ax.set_xlim(-1, 1), ax.set_ylim(-1, 1), ax.set_zlim(-1, 1)
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def build_geometries(clouds, meshes, colours):
    import open3d as o3d
    geoms = []
    for p, m, c, off in zip(clouds, meshes, colours, grid_offsets(len(clouds))):
        if m is not None:
            v = normalize_np(np.asarray(m[0], np.float32))
            g = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(v.astype(np.float64) + off),
                                          o3d.utility.Vector3iVector(m[1]))
            g.compute_vertex_normals()
            g.paint_uniform_color(c)
        else:
            g = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(p.astype(np.float64) + off))
            g.paint_uniform_color(c)
        geoms.append(g)
    return geoms


def draw_labels(image: np.ndarray, labels, anchors: np.ndarray, eye: np.ndarray, centre: np.ndarray,
                fov_deg: float) -> np.ndarray:
    """Write each label centred at its 3D anchor (N, 3) projected through the look-at camera
    (``eye`` -> ``centre``, Y up, vertical field of view ``fov_deg``) on an (H, W, 3) uint8 image."""
    from PIL import Image, ImageDraw

    from motion3d.render.open3d_clips import label_font

    from motion3d.render.camera import look_at_extrinsic

    h, w = image.shape[:2]
    ext = look_at_extrinsic(eye, centre)
    cam = anchors @ ext[:3, :3].T + ext[:3, 3]  # (N, 3) x right, y down, z forward
    f = 0.5 * h / np.tan(np.deg2rad(fov_deg) / 2.0)
    px = f * cam[:, :2] / np.maximum(cam[:, 2:], 1e-9) + [w / 2.0, h / 2.0]
    img = Image.fromarray(np.ascontiguousarray(image[..., :3]))
    draw = ImageDraw.Draw(img)
    size = max(10, h // 48)
    font = label_font(size)
    for lab, (x, y) in zip(labels, px):
        width = draw.textlength(lab, font=font)
        draw.text((x - width / 2.0, y - size), lab, fill=(30, 30, 30), font=font)
    return np.asarray(img)


def render_open3d_offscreen(geoms, out: Path, size=(1024, 768), labels=None) -> None:
    """Render the grid with Open3D's offscreen renderer; ``labels`` are written above each shape,
    as the matplotlib backend titles its panels."""
    import open3d as o3d
    r = o3d.visualization.rendering.OffscreenRenderer(*size)
    r.scene.set_background([1, 1, 1, 1])
    mat = o3d.visualization.rendering.MaterialRecord()
    mat.shader = "defaultLit"
    mat.point_size = 3.0
    for i, g in enumerate(geoms):
        r.scene.add_geometry(f"g{i}", g, mat)
    bounds = r.scene.bounding_box
    lo, hi = np.asarray(bounds.get_min_bound(), float), np.asarray(bounds.get_max_bound(), float)
    anchors = grid_offsets(len(geoms)) + [0.0, 1.1, 0.0]  # label positions, above each unit-sphere shape
    if labels:
        hi[1] = max(hi[1], float(anchors[:, 1].max()) + 0.2)  # keep the top row's labels in view
    centre = (0.5 * (lo + hi)).astype(np.float32)
    extent = float(np.max(hi - lo))
    eye = centre + np.array([0.0, 0.3, 1.5], np.float32) * extent      # in front, slightly above (Y up)
    r.setup_camera(45.0, centre.reshape(3, 1), eye.astype(np.float32).reshape(3, 1),
                   np.array([0, 1, 0], np.float32).reshape(3, 1))
    image = np.asarray(r.render_to_image())
    if labels:
        image = draw_labels(image, labels, anchors, eye.astype(float), centre.astype(float), 45.0)
    o3d.io.write_image(str(out), o3d.geometry.Image(np.ascontiguousarray(image[..., :3])))


def main(argv=None) -> Path | None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", help="files or folders (any supported point-cloud or mesh format)")
    ap.add_argument("--ckpt", help="classification checkpoint: colour by predicted class")
    ap.add_argument("--offscreen", metavar="PNG", help="write an image instead of opening a window")
    ap.add_argument("--backend", choices=["auto", "open3d", "matplotlib"], default="auto")
    ap.add_argument("--points", type=int, default=1024)
    ap.add_argument("--max", type=int, default=16, help="at most this many shapes (how many are left out is printed)")
    ap.add_argument("--up", choices=["auto", "y", "z"], default="auto",
                    help="the data's up axis; auto: by dataset and format convention (Z up: ModelNet, STL, OFF, "
                         "PCD; Y up otherwise), printed")
    ap.add_argument("--force", action="store_true", help="--offscreen: replace an existing image")
    a = ap.parse_args(argv)
    if a.offscreen:
        try:
            check_output(a.offscreen, inputs=[*a.paths, a.ckpt], force=a.force, suffixes=(".png", ".jpg"),
                         what="--offscreen")
        except OutputError as e:
            ap.error(str(e))

    files = collect(a.paths, a.max)
    ups = [guess_up(f) if a.up == "auto" else a.up for f in files]
    if a.up == "auto":
        turned = [f.name for f, u in zip(files, ups) if u == "z"]
        if turned:
            print(f"--up auto: {len(turned)} of {len(files)} files taken as Z up (ModelNet / STL / OFF / PCD "
                  f"convention) and turned Y up; pass --up y to show them as stored")
    items = [load_item(f, a.points, u) for f, u in zip(files, ups)]
    clouds = np.stack([p for p, _ in items])
    meshes = [m for _, m in items]
    labels = [f.stem for f in files]
    colours = np.tile([[0.2, 0.4, 0.8]], (len(files), 1))
    if a.ckpt:
        try:
            names, probs = predict(a.ckpt, clouds)
        except ValueError as e:  # CheckpointError: unreadable, unsafe or not a classification checkpoint
            ap.error(str(e))
        pred = probs.argmax(1)
        colours = class_colours(len(names))[pred]
        labels = [f"{f.stem}: {names[k]} ({probs[i, k]:.2f})" for i, (f, k) in enumerate(zip(files, pred))]
        for lab in labels:
            print(lab)
    if a.offscreen:
        out = Path(a.offscreen)
        if a.backend in ("auto", "open3d"):
            try:
                with atomic_output(out) as tmp:
                    render_open3d_offscreen(build_geometries(clouds, meshes, colours), tmp, labels=labels)
                print(f"wrote {out} (Open3D)")
                return out
            except Exception as e:  # no EGL / GPU context on this machine
                if a.backend == "open3d":
                    raise
                print(f"Open3D offscreen rendering unavailable ({type(e).__name__}: {e}); using matplotlib")
        with atomic_output(out) as tmp:
            render_matplotlib(clouds, colours, labels, tmp)
        print(f"wrote {out} (matplotlib)")
        return out
    import open3d as o3d
    o3d.visualization.draw_geometries(build_geometries(clouds, meshes, colours), window_name="motion3d show_points")
    return None


if __name__ == "__main__":
    main()
