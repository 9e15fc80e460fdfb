"""A differentiable renderer in pure torch: cameras, soft rasterisation of triangle meshes to
silhouettes and depth (SoftRas), soft splatting of point clouds and of skeleton capsules.

Every output is a smooth function of the vertices / points / joints and of the camera, so
gradients reach mesh vertices, joint rotations (through :func:`forward_kinematics`) and camera
poses. Images are (B, H, W); pixel (i, j) has its centre at (u, v) = (j + 0.5, i + 0.5).

The maths, top to bottom (SoftRas, Liu et al. 2019, "Soft Rasterizer")::

    x_cam          = R @ x_world + t                      # 1. camera frame (x right, y down, z forward)
    (u, v)         = f * (x, y) / z + c   (perspective)   # 2. pixels; orthographic: s * (x, y) + c
                     s * (x, y) + c       (orthographic)
    d(p, f)        = distance from pixel p to the edges of triangle f (screen space, pixels)
    D(p, f)        = sigmoid(sign(p inside f) * d^2 / sigma)          # 3. soft coverage
    silhouette(p)  = 1 - prod_f (1 - D(p, f))                         # 4. soft union
    z(p, f)        = 1 / sum_k b_k / z_k   (barycentrics b, clamped)  # 5. perspective-correct depth
    w(p, f)        = D(p, f) * exp((zn(p, f) - 1) / gamma),  zn = (z_max - z) / (z_max - z_min)
    depth(p)       = (sum_f w z + w_bg far) / (sum_f w + w_bg),  w_bg = exp((eps - 1) / gamma)  # 6.

Points splat as Gaussians of a world-space radius; capsules (bones of a given radius) cover pixels
by sigmoid((r_pix - d) / sigma) with d the distance to the projected segment.

A pytorch3d backend is used for meshes when pytorch3d is importable and ``backend`` asks for it
(``"auto"`` or ``"pytorch3d"``); the default pure-torch path needs nothing else.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from motion3d.geometry.kinematics import forward_kinematics


# ---------------------------------------------------------------------------------------------
# Cameras
# ---------------------------------------------------------------------------------------------

def _normalize(v: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    return v / v.norm(dim=-1, keepdim=True).clamp_min(eps)


def look_at_rotation(eye: torch.Tensor, target: torch.Tensor, up=(0.0, 1.0, 0.0)) -> torch.Tensor:
    """World-to-camera rotation (3, 3) looking from ``eye`` (3,) at ``target`` (3,); rows are the
    camera's right, down and forward axes (OpenCV). Differentiable in eye and target."""
    up = torch.as_tensor(up, dtype=eye.dtype, device=eye.device)
    forward = _normalize(target - eye)
    right = _normalize(torch.linalg.cross(forward, up))
    down = torch.linalg.cross(forward, right)
    return torch.stack([right, down, forward])


def axis_angle_matrix(rotvec: torch.Tensor) -> torch.Tensor:
    """Rodrigues: (..., 3) axis-angle to (..., 3, 3), smooth at zero."""
    theta2 = (rotvec * rotvec).sum(-1, keepdim=True)[..., None]  # (..., 1, 1)
    theta = theta2.clamp_min(1e-30).sqrt()
    small = theta2 < 1e-8
    a = torch.where(small, 1.0 - theta2 / 6.0, torch.sin(theta) / theta)
    b = torch.where(small, 0.5 - theta2 / 24.0, (1.0 - torch.cos(theta)) / theta2.clamp_min(1e-30))
    x, y, z = rotvec.unbind(-1)
    zero = torch.zeros_like(x)
    K = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(rotvec.shape[:-1] + (3, 3))
    eye = torch.eye(3, dtype=rotvec.dtype, device=rotvec.device)
    return eye + a * K + b * (K @ K)


@dataclass
class Camera:
    """A pinhole (perspective) or orthographic camera.

    Attributes:
        rotation: (3, 3) world-to-camera rotation (rows: right, down, forward).
        translation: (3,) so that x_cam = rotation @ x_world + translation.
        size: (width, height) in pixels.
        focal: focal length in pixels (perspective) or pixels per world unit (orthographic).
        projection: "perspective" or "orthographic".
        principal: (2,) principal point in pixels; default the image centre.
        near, far: clipping range; ``far`` is also the depth reported on the background.
            (The soft z-buffer normalises depth by the primitives' own depth range.)
    """

    rotation: torch.Tensor
    translation: torch.Tensor
    size: tuple[int, int]
    focal: torch.Tensor | float
    projection: str = "perspective"
    principal: torch.Tensor | None = None
    near: float = 0.1
    far: float = 100.0

    def __post_init__(self):
        if self.projection not in ("perspective", "orthographic"):
            raise ValueError(f"projection must be 'perspective' or 'orthographic', got {self.projection!r}")

    @staticmethod
    def look_at(eye, target, size=(64, 64), fov_deg: float = 40.0, projection: str = "perspective",
                ortho_extent: float | None = None, up=(0.0, 1.0, 0.0), near: float = 0.1,
                far: float = 100.0) -> "Camera":
        """Camera at ``eye`` (3,) looking at ``target`` (3,), differentiable in both.

        ``fov_deg`` is the vertical field of view (perspective); ``ortho_extent`` the world height
        that fills the image (orthographic; default the perspective view's height at the target).
        """
        eye = torch.as_tensor(eye, dtype=torch.get_default_dtype()) if not torch.is_tensor(eye) else eye
        target = torch.as_tensor(target, dtype=eye.dtype) if not torch.is_tensor(target) else target
        R = look_at_rotation(eye, target, up)
        t = -(R @ eye)
        H = size[1]
        if projection == "perspective":
            focal = 0.5 * H / math.tan(math.radians(fov_deg) / 2.0)
        else:
            extent = ortho_extent if ortho_extent is not None else \
                2.0 * (target - eye).norm() * math.tan(math.radians(fov_deg) / 2.0)
            focal = H / extent
        return Camera(R, t, tuple(size), focal, projection, None, near, far)

    def to_camera(self, points: torch.Tensor) -> torch.Tensor:
        """(..., P, 3) world points to the camera frame (..., P, 3)."""
        return points @ self.rotation.transpose(-1, -2) + self.translation

    def project(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pixel coordinates (..., P, 2) and depth (..., P) of world points (..., P, 3)."""
        x = self.to_camera(points)
        z = x[..., 2]
        c = self.principal if self.principal is not None else \
            torch.tensor([self.size[0] / 2.0, self.size[1] / 2.0], dtype=x.dtype, device=x.device)
        if self.projection == "perspective":
            uv = self.focal * x[..., :2] / z.clamp_min(1e-6)[..., None] + c
        else:
            uv = self.focal * x[..., :2] + c
        return uv, z

    def pixel_scale(self, depth: torch.Tensor) -> torch.Tensor:
        """Pixels per world unit at ``depth`` (perspective) or everywhere (orthographic)."""
        if self.projection == "perspective":
            return self.focal / depth.clamp_min(1e-6)
        return torch.as_tensor(self.focal, dtype=depth.dtype, device=depth.device).expand_as(depth)

    def pixel_grid(self, dtype=torch.float32, device=None) -> torch.Tensor:
        """(H * W, 2) pixel centres (u, v), row-major."""
        W, H = self.size
        v, u = torch.meshgrid(torch.arange(H, dtype=dtype, device=device) + 0.5,
                              torch.arange(W, dtype=dtype, device=device) + 0.5, indexing="ij")
        return torch.stack([u.reshape(-1), v.reshape(-1)], -1)


# ---------------------------------------------------------------------------------------------
# Screen-space geometry
# ---------------------------------------------------------------------------------------------

def _cross2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def segment_distance2(p: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Squared distance from points to segments and the closest parameter t in [0, 1].

    Args:
        p: (P, 2) pixels; a, b: (..., S, 2) segment ends.
    Returns:
        d2 (..., S, P) and t (..., S, P).
    """
    ab = (b - a)[..., None, :]  # (..., S, 1, 2)
    ap = p - a[..., None, :]  # (..., S, P, 2)
    t = ((ap * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-12)).clamp(0.0, 1.0)
    d = ap - t[..., None] * ab
    return (d * d).sum(-1), t


@dataclass
class SoftImages:
    """Soft renders: silhouette (B, H, W) in [0, 1] and depth (B, H, W) (``far`` on the background)."""

    silhouette: torch.Tensor
    depth: torch.Tensor


def depth_range(z: torch.Tensor) -> tuple[float, float]:
    """(near, far) for soft depth normalisation: the primitives' own depth range (no gradient),
    padded by 5%, so the soft z-buffer separates surfaces at any scene scale."""
    z = z.detach()
    lo, hi = float(z.min()), float(z.max())
    pad = 0.05 * max(hi - lo, 1e-6)
    return max(lo - pad, 1e-6), hi + pad


def _aggregate(coverage_chunks, camera: Camera, gamma: float, eps: float, shape, zrange) -> SoftImages:
    """Soft union of coverages and soft z-buffer of depths (steps 4 and 6 of the module maths).

    ``coverage_chunks`` yields (D (B, K, P), z (B, K, P)) per chunk of primitives; ``zrange`` is
    the (near, far) that normalises depth for the z-buffer weights.
    """
    log_empty, num, den = 0.0, 0.0, 0.0
    near, far = zrange
    for D, z in coverage_chunks:
        log_empty = log_empty + torch.log1p(-D.clamp(max=1.0 - 1e-7)).sum(1)
        zn = ((far - z) / (far - near)).clamp(0.0, 1.0)
        w = D * torch.exp((zn - 1.0) / gamma)
        num = num + (w * z).sum(1)
        den = den + w.sum(1)
    return _finish(log_empty, num, den, camera, gamma, eps, shape)


def _finish(log_empty, num, den, camera: Camera, gamma: float, eps: float, B: int) -> SoftImages:
    """Images from accumulated log(1 - D), sum w z and sum w, each (B, H * W)."""
    w_bg = math.exp((eps - 1.0) / gamma)
    sil = 1.0 - torch.exp(log_empty)
    depth = (num + w_bg * camera.far) / (den + w_bg)
    W, H = camera.size
    return SoftImages(sil.reshape(B, H, W), depth.reshape(B, H, W))


# ---------------------------------------------------------------------------------------------
# Meshes
# ---------------------------------------------------------------------------------------------

def _pytorch3d_available() -> bool:
    try:
        import pytorch3d.renderer  # noqa: F401
    except ImportError:
        return False
    return True


def rasterize_mesh(vertices: torch.Tensor, faces: torch.Tensor, camera: Camera, sigma: float = 2.0,
                   gamma: float = 0.05, eps: float = 1e-3, chunk: int = 256,
                   backend: str = "torch", zrange: tuple[float, float] | None = None) -> SoftImages:
    """Soft silhouette and depth of triangle meshes (SoftRas).

    Args:
        vertices: (B, V, 3) or (V, 3) world vertices.
        faces: (F, 3) vertex indices (long).
        camera: the :class:`Camera`.
        sigma: edge softness in squared pixels (larger: blurrier, gradients reach further).
        gamma: depth-aggregation temperature (smaller: sharper z-buffer).
        chunk: faces per step (memory ~ B * chunk * H * W).
        backend: "torch" (default), "pytorch3d" (requires it), or "auto" (pytorch3d if importable).
        zrange: (near, far) normalising depth in the soft z-buffer; default :func:`depth_range` of
            the vertices (a constant for gradients).
    Returns:
        :class:`SoftImages` with (B, H, W) silhouette and depth.
    """
    if backend not in ("torch", "pytorch3d", "auto"):
        raise ValueError(f"backend must be 'torch', 'pytorch3d' or 'auto', got {backend!r}")
    if vertices.dim() == 2:
        vertices = vertices[None]
    faces = torch.as_tensor(faces, dtype=torch.long, device=vertices.device)
    if backend == "pytorch3d" or (backend == "auto" and _pytorch3d_available()):
        return _rasterize_mesh_pytorch3d(vertices, faces, camera, sigma, gamma)
    B = vertices.shape[0]
    uv, z = camera.project(vertices)  # (B, V, 2), (B, V)
    pix = camera.pixel_grid(vertices.dtype, vertices.device)  # (P, 2)

    def chunks():
        for s in range(0, faces.shape[0], chunk):
            f = faces[s:s + chunk]
            tri = uv[:, f]  # (B, K, 3, 2)
            tz = z[:, f]  # (B, K, 3)
            a, b, c = tri.unbind(2)
            # distance to the three edges
            d2 = torch.stack([segment_distance2(pix, a, b)[0], segment_distance2(pix, b, c)[0],
                              segment_distance2(pix, c, a)[0]]).amin(0)  # (B, K, P)
            # barycentrics in screen space (signed areas), inside test
            area = _cross2(b - a, c - a)[..., None]  # (B, K, 1)
            p = pix[None, None]  # (1, 1, P, 2)
            safe = area.where(area.abs() > 1e-12, torch.ones_like(area))
            w0 = _cross2(b[..., None, :] - p, c[..., None, :] - p) / safe
            w1 = _cross2(c[..., None, :] - p, a[..., None, :] - p) / safe
            w2 = 1.0 - w0 - w1
            bary = torch.stack([w0, w1, w2], -1)  # (B, K, P, 3)
            inside = (bary > 0).all(-1) & (area.abs() > 1e-12)
            D = torch.sigmoid(torch.where(inside, d2, -d2) / sigma)
            # perspective-correct depth from clamped barycentrics
            bc = bary.clamp(0.0, 1.0)
            bc = bc / bc.sum(-1, keepdim=True).clamp_min(1e-12)
            if camera.projection == "perspective":
                zp = 1.0 / (bc / tz[..., None, :].clamp_min(1e-6)).sum(-1)
            else:
                zp = (bc * tz[..., None, :]).sum(-1)
            yield D, zp

    return _aggregate(chunks(), camera, gamma, eps, B, zrange or depth_range(z))


def _rasterize_mesh_pytorch3d(vertices, faces, camera: Camera, sigma: float, gamma: float) -> SoftImages:
    """The same soft silhouette through pytorch3d's rasteriser (used only when it is installed)."""
    from pytorch3d.renderer import (BlendParams, MeshRasterizer, RasterizationSettings,
                                    SoftSilhouetteShader, PerspectiveCameras, OrthographicCameras)
    from pytorch3d.structures import Meshes

    W, H = camera.size
    B = vertices.shape[0]
    # pytorch3d's view frame is x left, y up, z forward (row vectors): flip x and y of ours.
    flip = torch.diag(torch.tensor([-1.0, -1.0, 1.0], dtype=vertices.dtype, device=vertices.device))
    R = (flip @ camera.rotation).T[None].expand(B, 3, 3)
    T = (flip @ camera.translation)[None].expand(B, 3)
    focal = torch.as_tensor(camera.focal, dtype=vertices.dtype).reshape(1, 1).expand(B, 2)
    pp = torch.tensor([[W / 2.0, H / 2.0]], dtype=vertices.dtype).expand(B, 2)
    cls = PerspectiveCameras if camera.projection == "perspective" else OrthographicCameras
    cams = cls(focal_length=focal, principal_point=pp, R=R, T=T, in_ndc=False,
               image_size=torch.tensor([[H, W]]).expand(B, 2), device=vertices.device)
    blend = BlendParams(sigma=sigma / (0.5 * max(W, H)) ** 2, gamma=gamma)
    settings = RasterizationSettings(image_size=(H, W), blur_radius=math.log(1.0 / 1e-4 - 1.0) * blend.sigma,
                                     faces_per_pixel=50)
    rasterizer = MeshRasterizer(cameras=cams, raster_settings=settings)
    meshes = Meshes(verts=list(vertices), faces=[faces] * B)
    frags = rasterizer(meshes)
    sil = SoftSilhouetteShader(blend_params=blend)(frags, meshes)[..., 3]
    zbuf = frags.zbuf[..., 0]
    depth = torch.where(zbuf > 0, zbuf, torch.full_like(zbuf, camera.far))
    return SoftImages(sil, depth)


# ---------------------------------------------------------------------------------------------
# Point clouds and skeleton capsules
# ---------------------------------------------------------------------------------------------

def splat_points(points: torch.Tensor, camera: Camera, radius: float | torch.Tensor, gamma: float = 0.05,
                 eps: float = 1e-3, chunk: int = 512, zrange: tuple[float, float] | None = None) -> SoftImages:
    """Soft splats: each point a Gaussian of world ``radius`` (its standard deviation).

    Args:
        points: (B, P, 3) or (P, 3) world points.
        zrange: see :func:`rasterize_mesh`.
    Returns:
        :class:`SoftImages` (B, H, W).
    """
    if points.dim() == 2:
        points = points[None]
    uv, z = camera.project(points)
    r_pix = camera.pixel_scale(z) * radius  # (B, N)
    pix = camera.pixel_grid(points.dtype, points.device)

    def chunks():
        for s in range(0, points.shape[1], chunk):
            d2 = ((pix[None, None] - uv[:, s:s + chunk, None]) ** 2).sum(-1)  # (B, K, P)
            D = torch.exp(-0.5 * d2 / r_pix[:, s:s + chunk, None].clamp_min(1e-6) ** 2)
            yield D, z[:, s:s + chunk, None].expand_as(D)

    return _aggregate(chunks(), camera, gamma, eps, points.shape[0], zrange or depth_range(z))


def render_capsules(joints: torch.Tensor, bones, camera: Camera, radius: float | torch.Tensor,
                    sigma: float = 1.0, gamma: float = 0.05, eps: float = 1e-3,
                    zrange: tuple[float, float] | None = None, cull: bool = True) -> SoftImages:
    """Soft silhouette and depth of capsules (bones of world ``radius``) between joints.

    Args:
        joints: (B, J, 3) or (J, 3) world joint positions.
        bones: (K, 2) joint index pairs.
        sigma: edge softness in pixels.
        zrange: see :func:`rasterize_mesh`.
        cull: evaluate each bone only near its projection (default; exact to 3e-4 and much faster
            on large images); False evaluates every pixel for every bone.
    Returns:
        :class:`SoftImages` (B, H, W).
    """
    if joints.dim() == 2:
        joints = joints[None]
    bones = torch.as_tensor(bones, dtype=torch.long, device=joints.device)
    uv, z = camera.project(joints)
    zrange = zrange or depth_range(z)
    if cull:
        return _capsules_culled(uv, z, bones, camera, radius, sigma, gamma, eps, zrange)
    pix = camera.pixel_grid(joints.dtype, joints.device)
    a, b = uv[:, bones[:, 0]], uv[:, bones[:, 1]]  # (B, K, 2)
    d2, t = segment_distance2(pix, a, b)  # (B, K, P)
    za, zb = z[:, bones[:, 0], None], z[:, bones[:, 1], None]
    zp = za + t * (zb - za)  # depth along the bone at the closest point
    r_pix = camera.pixel_scale(zp) * radius
    D = torch.sigmoid((r_pix - (d2 + 1e-12).sqrt()) / sigma)
    return _aggregate([(D, zp)], camera, gamma, eps, joints.shape[0], zrange)


def _capsules_culled(uv, z, bones, camera: Camera, radius, sigma, gamma, eps, zrange) -> SoftImages:
    """Capsules evaluated only in a window around each projected bone, scattered into the image.

    Every (frame, bone) gets a window of the same size (the largest bone's bounding box plus the
    radius and 8 sigma), so the work is vectorised and ~ B * K * window instead of B * K * H * W;
    coverage beyond the window (< sigmoid(-8) = 3e-4) is dropped.
    """
    W, H = camera.size
    B, K = uv.shape[0], bones.shape[0]
    a, b = uv[:, bones[:, 0]], uv[:, bones[:, 1]]  # (B, K, 2)
    za, zb = z[:, bones[:, 0]], z[:, bones[:, 1]]  # (B, K)
    with torch.no_grad():
        r_max = camera.pixel_scale(torch.minimum(za, zb)) * radius
        margin = (r_max + 8.0 * sigma + 1.0)[..., None]
        lo = (torch.minimum(a, b) - margin).floor()
        hi = (torch.maximum(a, b) + margin).ceil()
        limit = torch.tensor([W - 1, H - 1], dtype=lo.dtype, device=lo.device)
        lo = torch.minimum(lo.clamp_min(0), limit)
        hi = torch.minimum(hi.clamp_min(0), limit)
        size = (hi - lo + 1).amax(dim=(0, 1)).long()  # (2,) window width, height
        sw, sh = int(size[0]), int(size[1])
        gx = lo[..., 0, None] + torch.arange(sw, dtype=lo.dtype, device=lo.device)  # (B, K, sw)
        gy = lo[..., 1, None] + torch.arange(sh, dtype=lo.dtype, device=lo.device)  # (B, K, sh)
        x = gx[..., None, :].expand(B, K, sh, sw).reshape(B, K, -1)
        y = gy[..., :, None].expand(B, K, sh, sw).reshape(B, K, -1)
        valid = ((x <= W - 1) & (y <= H - 1)).to(uv.dtype)
        index = (y.clamp(max=H - 1) * W + x.clamp(max=W - 1)).long().reshape(B, -1)  # (B, K * n)
    px = torch.stack([x + 0.5, y + 0.5], -1)  # (B, K, n, 2)
    ab = (b - a)[..., None, :]
    ap = px - a[..., None, :]
    t = ((ap * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-12)).clamp(0.0, 1.0)  # (B, K, n)
    d = ap - t[..., None] * ab
    dist = ((d * d).sum(-1) + 1e-12).sqrt()
    zp = za[..., None] + t * (zb - za)[..., None]
    r_pix = camera.pixel_scale(zp) * radius
    D = torch.sigmoid((r_pix - dist) / sigma) * valid
    near, far = zrange
    zn = ((far - zp) / (far - near)).clamp(0.0, 1.0)
    w = D * torch.exp((zn - 1.0) / gamma)
    zeros = uv.new_zeros(B, H * W)
    log_empty = zeros.scatter_add(1, index, torch.log1p(-D.clamp(max=1.0 - 1e-7)).reshape(B, -1))
    num = zeros.scatter_add(1, index, (w * zp).reshape(B, -1))
    den = zeros.scatter_add(1, index, w.reshape(B, -1))
    return _finish(log_empty, num, den, camera, gamma, eps, B)


def render_skeleton(rotations: torch.Tensor, offsets: torch.Tensor, parents, root_positions: torch.Tensor,
                    camera: Camera, radius: float, **kwargs) -> SoftImages:
    """Capsule render of a posed skeleton through forward kinematics (gradients reach rotations).

    Args:
        rotations: (B, J, 4) local unit quaternions xyzw; offsets: (J, 3); parents: (J,);
        root_positions: (B, 3).
    """
    _, pos = forward_kinematics(rotations, offsets, parents, root_positions)
    parents_t = torch.as_tensor(parents)
    child = torch.nonzero(parents_t >= 0).squeeze(-1)
    bones = torch.stack([parents_t[child], child], 1)
    return render_capsules(pos, bones, camera, radius, **kwargs)


def silhouette_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Soft IoU loss 1 - |A n B| / |A u B| per image, averaged: (B, H, W) x2 -> scalar."""
    inter = (pred * target).flatten(1).sum(1)
    union = (pred + target - pred * target).flatten(1).sum(1)
    return (1.0 - inter / union.clamp_min(1e-9)).mean()
