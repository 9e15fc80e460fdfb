"""Differentiable renderer: projections, soft images, gradcheck, and recovering pose from silhouettes."""
import math

import pytest
import torch

from motion3d.geometry.rotations import axis_angle_to_quat
from motion3d.render.diff import (Camera, axis_angle_matrix, rasterize_mesh, render_capsules, render_skeleton,
                                  silhouette_loss, splat_points)
from tests.conftest import assert_close

@pytest.fixture(autouse=True)
def _one_thread():
    """These images are tiny: thread start-up dominates and, on a busy 2-core machine, costs 10x."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


CUBE_V = torch.tensor([[x, y, z] for x in (-.5, .5) for y in (-.5, .5) for z in (-.5, .5)])
CUBE_F = torch.tensor([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1], [2, 3, 7], [2, 7, 6],
                       [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])


def test_perspective_and_orthographic_projection():
    cam = Camera.look_at(torch.tensor([0.0, 0.0, 5.0]), torch.zeros(3), size=(100, 80), fov_deg=90.0)
    uv, z = cam.project(torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 0.0]]))
    assert_close(z, [5.0, 5.0], atol=1e-6)
    # f = 40 px (half height / tan 45); camera looks down -Z: world +X is image right, +Y image up
    assert_close(uv, [[50.0, 40.0], [50.0 + 40.0 / 5.0, 40.0 - 40.0 / 5.0]], atol=1e-5)
    ortho = Camera.look_at(torch.tensor([0.0, 0.0, 5.0]), torch.zeros(3), size=(100, 80),
                           projection="orthographic", ortho_extent=4.0)
    uv, _ = ortho.project(torch.tensor([[1.0, 1.0, -3.0]]))
    assert_close(uv, [[50.0 + 20.0, 40.0 - 20.0]], atol=1e-5)  # 80 px / 4 units, depth-independent
    with pytest.raises(ValueError, match="projection"):
        Camera(torch.eye(3), torch.zeros(3), (4, 4), 1.0, "fisheye")


def test_axis_angle_matrix_matches_known_rotation():
    R = axis_angle_matrix(torch.tensor([0.0, 0.0, math.pi / 2], dtype=torch.float64))
    assert_close(R, [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12)
    assert_close(axis_angle_matrix(torch.zeros(3)), torch.eye(3), atol=1e-7)


def test_mesh_silhouette_and_depth_values():
    cam = Camera.look_at(torch.tensor([0.0, 0.0, 4.0]), torch.zeros(3), size=(32, 32), fov_deg=40.0)
    out = rasterize_mesh(CUBE_V, CUBE_F, cam, sigma=0.5)
    assert out.silhouette.shape == (1, 32, 32)
    assert out.silhouette[0, 16, 12] > 0.99 and out.silhouette[0, 0, 0] < 1e-3
    # the front face is at z = 3.5 from the camera; the background at far
    assert out.depth[0, 16, 12].item() == pytest.approx(3.5, abs=0.05)
    assert out.depth[0, 0, 0].item() == pytest.approx(cam.far, rel=1e-3)
    # the projected half-width of the front face: f * 0.5 / 3.5
    f = 16 / math.tan(math.radians(20))
    half = f * 0.5 / 3.5
    row = out.silhouette[0, 16]
    assert (row > 0.5).sum().item() == pytest.approx(2 * half, abs=1.5)


def test_gradcheck_mesh_vertices_and_camera():
    torch.manual_seed(0)
    v = torch.tensor([[-0.6, -0.5, 0.0], [0.7, -0.4, 0.1], [0.0, 0.6, -0.1], [0.5, 0.5, 0.3]],
                     dtype=torch.float64, requires_grad=True)
    f = torch.tensor([[0, 1, 2], [1, 3, 2]])
    eye = torch.tensor([0.2, 0.1, 3.0], dtype=torch.float64, requires_grad=True)

    def fn(v, eye):
        cam = Camera.look_at(eye, torch.zeros(3, dtype=torch.float64), size=(6, 5), near=0.1, far=10.0)
        out = rasterize_mesh(v, f, cam, sigma=3.0, gamma=0.5, zrange=(2.0, 4.0))
        return out.silhouette, out.depth

    assert torch.autograd.gradcheck(fn, (v, eye), eps=1e-6, atol=1e-5)
    sil, _ = fn(v, eye)
    sil.sum().backward()
    assert v.grad.abs().sum() > 0 and eye.grad.abs().sum() > 0


def test_gradcheck_points_and_capsules():
    j = torch.tensor([[0.0, -0.5, 0.0], [0.1, 0.4, 0.1], [0.6, 0.6, 0.0]], dtype=torch.float64, requires_grad=True)
    cam = Camera.look_at(torch.tensor([0.0, 0.0, 3.0], dtype=torch.float64), torch.zeros(3, dtype=torch.float64),
                         size=(6, 6), far=10.0)
    ortho = Camera.look_at(torch.tensor([0.0, 0.0, 3.0], dtype=torch.float64), torch.zeros(3, dtype=torch.float64),
                           size=(6, 6), far=10.0, projection="orthographic")

    def caps(j):
        out = render_capsules(j, [[0, 1], [1, 2]], cam, 0.1, sigma=1.0, gamma=0.5, zrange=(2.0, 4.0), cull=False)
        return out.silhouette, out.depth

    def pts(j):
        out = splat_points(j, ortho, 0.2, gamma=0.5, zrange=(2.0, 4.0))
        return out.silhouette, out.depth

    assert torch.autograd.gradcheck(caps, (j,), eps=1e-6, atol=1e-5)
    assert torch.autograd.gradcheck(pts, (j,), eps=1e-6, atol=1e-5)


def test_gradcheck_skeleton_rotations_through_fk():
    offsets, parents = _arm()
    offsets = offsets.double()
    cam = Camera.look_at(torch.tensor([0.0, 1.2, 5.0], dtype=torch.float64),
                         torch.tensor([0.0, 1.2, 0.0], dtype=torch.float64), size=(6, 6), far=10.0)
    aa = torch.tensor([[[0.1, 0.0, 0.2], [0.0, 0.3, 0.5], [0.2, 0.0, -0.4], [0.0, 0.0, 0.0]]],
                      dtype=torch.float64, requires_grad=True)
    root = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)

    def fn(aa, root):
        out = render_skeleton(axis_angle_to_quat(aa), offsets, parents, root, cam, radius=0.15,
                              sigma=1.0, gamma=0.5, zrange=(4.0, 6.0))
        return out.silhouette, out.depth

    assert torch.autograd.gradcheck(fn, (aa, root), eps=1e-6, atol=1e-5)
    fn(aa, root)[0].sum().backward()
    assert aa.grad[0, :3].abs().sum() > 0


def test_culled_capsules_match_dense_evaluation():
    torch.manual_seed(0)
    j = torch.randn(3, 6, 3) * 0.3
    bones = [[0, 1], [1, 2], [2, 3], [1, 4], [4, 5]]
    cam = Camera.look_at(torch.tensor([0.0, 0.0, 4.0]), torch.zeros(3), size=(48, 40))
    dense = render_capsules(j, bones, cam, 0.06, cull=False)
    culled = render_capsules(j, bones, cam, 0.06, cull=True)
    assert_close(culled.silhouette, dense.silhouette, atol=1e-3)
    covered = dense.silhouette > 0.05
    assert covered.sum() > 50
    assert_close(culled.depth[covered], dense.depth[covered], atol=1e-3)
    jg = j.clone().requires_grad_(True)
    render_capsules(jg, bones, cam, 0.06).silhouette.sum().backward()
    jd = j.clone().requires_grad_(True)
    render_capsules(jd, bones, cam, 0.06, cull=False).silhouette.sum().backward()
    assert_close(jg.grad, jd.grad, atol=2e-2 * float(jd.grad.abs().max()))


def test_optimisation_recovers_translation():
    cam = Camera.look_at(torch.tensor([1.5, 1.5, 4.0]), torch.zeros(3), size=(32, 32))
    true_t = torch.tensor([0.4, -0.3, 0.2])
    target = rasterize_mesh(CUBE_V * 0.8 + true_t, CUBE_F, cam).silhouette.detach()
    t = torch.zeros(3, requires_grad=True)
    opt = torch.optim.Adam([t], lr=0.05)
    for _ in range(120):
        opt.zero_grad()
        loss = silhouette_loss(rasterize_mesh(CUBE_V * 0.8 + t, CUBE_F, cam).silhouette, target)
        loss.backward()
        opt.step()
    assert (t.detach() - true_t).norm() < 0.08, t


def _arm():
    offsets = torch.tensor([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.8, 0.0], [0.0, 0.6, 0.0]])
    parents = [-1, 0, 1, 2]
    return offsets, parents


def test_optimisation_recovers_joint_rotation():
    offsets, parents = _arm()
    cam = Camera.look_at(torch.tensor([0.0, 1.2, 5.0]), torch.tensor([0.0, 1.2, 0.0]), size=(40, 40))
    root = torch.zeros(1, 3)

    def render_angle(angle):
        aa = torch.stack([torch.zeros(3), torch.stack([angle * 0, angle * 0, angle]), torch.zeros(3),
                          torch.zeros(3)])[None]
        q = axis_angle_to_quat(aa)
        return render_skeleton(q, offsets, parents, root, cam, radius=0.08, sigma=1.0).silhouette

    true = torch.tensor(math.radians(50.0))
    target = render_angle(true).detach()
    angle = torch.tensor(math.radians(20.0), requires_grad=True)
    opt = torch.optim.Adam([angle], lr=0.03)
    for _ in range(100):
        opt.zero_grad()
        loss = silhouette_loss(render_angle(angle), target)
        loss.backward()
        opt.step()
    assert abs(math.degrees(angle.item() - true.item())) < 3.0, math.degrees(angle.item())


def test_backend_argument():
    cam = Camera.look_at(torch.tensor([0.0, 0.0, 4.0]), torch.zeros(3), size=(8, 8))
    with pytest.raises(ValueError, match="backend"):
        rasterize_mesh(CUBE_V, CUBE_F, cam, backend="opengl")
    try:
        import pytorch3d  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError):
            rasterize_mesh(CUBE_V, CUBE_F, cam, backend="pytorch3d")
        auto = rasterize_mesh(CUBE_V, CUBE_F, cam, backend="auto")
        assert_close(auto.silhouette, rasterize_mesh(CUBE_V, CUBE_F, cam).silhouette)
