"""MotionDiffusion: schedule, samplers, classifier-free guidance, inpainting and guidance controls."""
from __future__ import annotations

import pytest
import torch

from motion3d.models.config import build
from motion3d.models.motion import MotionDiffusion
from motion3d.models.motion.diffusion import (NoiseSchedule, _time_embedding, ddim_step, ddpm_step, noise_like,
                                              prefix_constraint, sampling_timesteps)

D = 12


def _net(**kw) -> MotionDiffusion:
    torch.manual_seed(0)
    args = dict(dim=32, layers=2, heads=4, ff_dim=64, dropout=0.0, max_len=32, diffusion_steps=50, sample_steps=8)
    return MotionDiffusion(D, 3, 2, **{**args, **kw}).eval()


@pytest.mark.parametrize("kind", ["cosine", "linear"])
def test_schedule_and_forward_process(kind):
    s = NoiseSchedule(100, kind)
    a = s.alpha_bar
    assert a.shape == (100,) and bool((a[1:] < a[:-1]).all()) and 0 < float(a[-1]) < 0.05 < 0.99 < float(a[0]) <= 1
    x0, eps = torch.randn(3, 5, D), torch.randn(3, 5, D)
    t = torch.tensor([0, 50, 99])
    xt = s.q_sample(x0, t, eps)
    torch.testing.assert_close(xt[1], a[50].sqrt() * x0[1] + (1 - a[50]).sqrt() * eps[1])
    assert float(s.at(torch.tensor([-1]))) == 1.0
    ts = sampling_timesteps(100, 10)
    assert ts[0] == 99 and ts[-1] == 0 and ts == sorted(set(ts), reverse=True) and len(ts) == 10
    assert sampling_timesteps(10, 50) == list(range(9, -1, -1))
    with pytest.raises(ValueError, match="schedule"):
        NoiseSchedule(10, "square")


def test_samplers_step_along_the_forward_process_given_the_true_x0():
    s = NoiseSchedule(100)
    x0, eps = torch.randn(4, 6, D), torch.randn(4, 6, D)
    xt = s.q_sample(x0, torch.full((4,), 80), eps)
    # DDIM (eta 0) with the true x0 lands exactly on the same noise path at t_prev
    torch.testing.assert_close(ddim_step(s, xt, x0, 80, 40), s.q_sample(x0, torch.full((4,), 40), eps),
                               atol=1e-5, rtol=1e-5)
    assert torch.equal(ddim_step(s, xt, x0, 80, -1), x0) and torch.equal(ddpm_step(s, xt, x0, 80, -1), x0)
    # DDPM's posterior: its spread over draws matches the posterior variance
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([ddpm_step(s, xt[:1], x0[:1], 80, 40, generator=g) for _ in range(400)])
    a_t, a_p = s.alpha_bar[80], s.alpha_bar[40]
    var = (1 - a_t / a_p) * (1 - a_p) / (1 - a_t)
    assert abs(float(draws.var(0).mean()) / float(var) - 1) < 0.15


def test_config_round_trip_and_shapes():
    net = _net()
    twin = build(net.config)
    twin.load_state_dict(net.state_dict())
    x, t = torch.randn(2, 10, D), torch.tensor([3, 40])
    torch.testing.assert_close(twin(x, t, {"content": torch.tensor([0, 2])}), net(x, t, {"content": torch.tensor([0, 2])}))
    with pytest.raises(ValueError, match="max_len"):
        net(torch.randn(1, 40, D), torch.tensor([1]))
    with pytest.raises(ValueError, match="channels"):
        net(torch.randn(1, 5, D + 1), torch.tensor([1]))


def test_v_parametrization_passes_the_input_through_at_low_noise_and_predicts_at_high():
    x = torch.randn(2, 10, D)
    y = _net(parametrization="v")
    a = y.schedule.alpha_bar
    for t in (0, 25, 49):  # x0 = sqrt(a) x_t - sqrt(1 - a) v, v the head's output
        tt = torch.full((2,), t)
        v = y.out(y.norm(y.encoder(y.pos(y.inp(torch.cat([x, torch.zeros_like(x), torch.zeros_like(x)], -1)))
                                   + y.time(_time_embedding(tt, y.dim))[:, None]
                                   + y.labels(None, 2, x.device)[:, None])))
        torch.testing.assert_close(y(x, tt), a[t].sqrt() * x - (1 - a[t]).sqrt() * v)
    assert float((y(x, torch.zeros(2, dtype=torch.long)) - x).abs().mean()) < 0.05  # nearly the input
    assert float((_net()(x, torch.zeros(2, dtype=torch.long)) - x).abs().mean()) > 0.5  # x0: whatever the head says
    with pytest.raises(ValueError, match="parametrization"):
        _net(parametrization="eps")


def test_guidance_zero_is_the_unconditional_model_and_one_the_conditional():
    net = _net()
    lab = {"content": torch.tensor([1, 2]), "style": torch.tensor([0, 1])}
    unknown = {"content": torch.tensor([-1, -1]), "style": torch.tensor([-1, -1])}
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    torch.testing.assert_close(net.sample(2, 10, lab, generator=g(), guidance=0.0),
                               net.sample(2, 10, unknown, generator=g()), atol=1e-5, rtol=1e-5)
    x, t = torch.randn(2, 10, D), torch.tensor([10, 20])
    torch.testing.assert_close(net.denoise(x, t, lab, None, None, 1.0), net(x, t, lab))
    strong = net.denoise(x, t, lab, None, None, 3.0)
    assert not torch.allclose(strong, net(x, t, lab))  # guidance moves away from the unconditional prediction
    # seeded sampling is reproducible, and ddpm differs from ddim
    a = net.sample(2, 10, lab, generator=g())
    assert torch.equal(a, net.sample(2, 10, lab, generator=g()))
    assert not torch.allclose(a, net.sample(2, 10, lab, generator=g(), sampler="ddpm"))


def test_known_features_are_kept_exactly():
    net = _net()
    seed = torch.randn(3, 4, D)
    out = net.sample(3, 12, constraints={"seed": seed}, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out[:, :4], seed)
    c = prefix_constraint(seed, 12)
    c["mask"][:, -1] = True  # a target frame as well: in-betweening
    c["values"][:, -1] = 7.0
    out = net.sample(3, 12, constraints=c, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out[:, :4], seed) and torch.equal(out[:, -1], torch.full((3, D), 7.0))
    with pytest.raises(ValueError, match="unknown constraint"):
        net.sample(1, 5, constraints={"keyframes": seed})
    with pytest.raises(ValueError, match="mask and values must be"):
        net.sample(1, 5, constraints={"mask": torch.ones(1, 4, D, dtype=torch.bool), "values": torch.zeros(1, 4, D)})


def test_reconstruction_guidance_pulls_the_prediction_towards_the_target():
    net = _net()
    target = 2.0

    def guide(x0):  # channel 0 of every frame should be `target`
        return (x0[..., 0] - target).square().mean(-1)

    g = lambda: torch.Generator().manual_seed(1)  # noqa: E731
    free = net.sample(4, 10, generator=g())
    guided = net.sample(4, 10, generator=g(), constraints={"guide": guide, "guide_scale": 2.0, "guide_iters": 3})
    assert float((guided[..., 0] - target).abs().mean()) < 0.5 * float((free[..., 0] - target).abs().mean())



def test_refinement_puts_the_guided_channels_on_target_and_keeps_known_features():
    net = _net()
    target = 2.0

    def guide(x0):
        return (x0[..., 0] - target).square().mean(-1)

    g = lambda: torch.Generator().manual_seed(1)  # noqa: E731
    seed = torch.randn(4, 3, D)
    c = {"seed": seed, "guide": guide, "guide_scale": 2.0, "guide_iters": 3}
    guided = net.sample(4, 10, generator=g(), constraints=c)
    refined = net.sample(4, 10, generator=g(), constraints={**c, "guide_refine": 300})
    assert float((refined[:, 3:, 0] - target).abs().max()) < 0.05  # on target after the refinement
    assert float((guided[:, 3:, 0] - target).abs().mean()) > 0.1   # not before
    assert torch.equal(refined[:, :3], seed)                       # known frames untouched
    # the other channels stay near the sample (the prior term)
    assert float((refined[..., 1:] - guided[..., 1:]).abs().mean()) < 0.1


def test_mean_of_samples_is_the_mean_of_as_many_draws_and_keeps_known_features():
    net = _net()
    seed = torch.randn(3, 4, D)
    g = torch.Generator().manual_seed(2)
    draws = [net.sample(3, 12, constraints={"seed": seed}, generator=g, sampler="ddpm") for _ in range(3)]
    mean = net.sample(3, 12, constraints={"seed": seed}, generator=torch.Generator().manual_seed(2), sampler="ddpm",
                      samples=3)
    assert torch.allclose(mean, torch.stack(draws).mean(0), atol=1e-5)
    assert torch.equal(mean[:, :4], seed)
    assert not torch.allclose(draws[0], draws[1])  # independent draws, not one repeated
    one = net.sample(3, 12, constraints={"seed": seed}, generator=torch.Generator().manual_seed(2), sampler="ddpm",
                     samples=1)
    assert torch.equal(one, draws[0])
    with pytest.raises(ValueError, match="samples must be >= 1"):
        net.sample(1, 5, samples=0)


def test_guide_scale_zero_refines_the_finished_sample_only():
    net = _net()
    calls = []

    def guide(x0):
        calls.append(x0.shape)
        return (x0[..., 0] - 2.0).square().mean(-1)

    g = lambda: torch.Generator().manual_seed(1)  # noqa: E731
    free = net.sample(2, 10, generator=g())
    out = net.sample(2, 10, generator=g(), constraints={"guide": guide, "guide_scale": 0.0, "guide_refine": 5})
    assert len(calls) == 5  # the refinement's steps, none during denoising
    assert float((out[..., 0] - 2.0).abs().mean()) < float((free[..., 0] - 2.0).abs().mean())


@torch.no_grad()
def _two_pass_sample(net, n, length, labels, g, guidance, mask=None, values=None, sampler="ddim"):
    """The sampler as first written: two separate forward passes per step (conditional, then with
    every label unknown), mixed ``x0_u + w (x0_c - x0_u)``, the known features imputed."""
    x = noise_like(torch.empty(n, length, D), g)
    ts = sampling_timesteps(net.diffusion_steps, net.sample_steps)
    unknown = {"content": torch.full((n,), -1), "style": torch.full((n,), -1)}
    for i, t in enumerate(ts):
        t_prev = ts[i + 1] if i + 1 < len(ts) else -1
        tt = torch.full((n,), t)
        x0_c, x0_u = net(x, tt, labels, mask, values), net(x, tt, unknown, mask, values)
        x0 = x0_u + guidance * (x0_c - x0_u)
        if mask is not None:
            x0 = torch.where(mask, values, x0)
        x = ddim_step(net.schedule, x, x0, t, t_prev) if sampler == "ddim" else ddpm_step(net.schedule, x, x0, t,
                                                                                          t_prev, g)
    return torch.where(mask, values, x) if mask is not None else x


@pytest.mark.parametrize("parametrization", ["x0", "v"])
@pytest.mark.parametrize("guidance", [0.0, 1.0, 2.5])
def test_batched_sampler_equals_the_two_pass_sampler(guidance, parametrization):
    net = _net(parametrization=parametrization)
    lab = {"content": torch.tensor([1, 2, 0]), "style": torch.tensor([0, 1, -1])}
    g = lambda: torch.Generator().manual_seed(7)  # noqa: E731
    torch.testing.assert_close(net.sample(3, 10, lab, generator=g(), guidance=guidance),
                               _two_pass_sample(net, 3, 10, lab, g(), guidance), atol=1e-5, rtol=1e-5)
    c = prefix_constraint(torch.randn(3, 4, D), 10)  # with known features too, and the ancestral sampler
    torch.testing.assert_close(net.sample(3, 10, lab, generator=g(), guidance=guidance, constraints=c, sampler="ddpm"),
                               _two_pass_sample(net, 3, 10, lab, g(), guidance, c["mask"], c["values"], "ddpm"),
                               atol=1e-5, rtol=1e-5)


def test_joint_positions_condition_the_denoiser_and_are_checked():
    J = 5
    net = _net(condition_joints=J)
    assert net.inp.in_features == 3 * D + 4 * J
    lab = {"content": torch.tensor([1, 2]), "style": torch.tensor([0, 1])}
    x, t = torch.randn(2, 10, D), torch.full((2,), 17)
    pos, known = torch.randn(2, 10, J, 3), torch.zeros(2, 10, J, dtype=torch.bool)
    known[:, :, 1] = True
    plain = net(x, t, lab)
    # nothing known is the same as no positions; a known joint changes the prediction; an unknown one is ignored
    torch.testing.assert_close(net(x, t, lab, positions=pos, position_mask=torch.zeros_like(known)), plain)
    assert not torch.allclose(net(x, t, lab, positions=pos, position_mask=known), plain)
    other = pos.clone()
    other[:, :, 2] += 1.0
    torch.testing.assert_close(net(x, t, lab, positions=other, position_mask=known),
                               net(x, t, lab, positions=pos, position_mask=known))
    c = prefix_constraint(torch.randn(2, 3, D), 10)
    for w in (1.0, 2.5):  # the fast sampling denoiser takes them as denoise does
        f = net._sampling_denoiser(2, 10, lab, c["mask"], c["values"], w, pos, known)
        torch.testing.assert_close(f(x, 17), net.denoise(x, t, lab, c["mask"], c["values"], w, pos, known),
                                   atol=1e-5, rtol=1e-5)
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    a = net.sample(2, 10, lab, generator=g(), steps=4, constraints={"positions": pos, "position_mask": known})
    b = net.sample(2, 10, lab, generator=g(), steps=4)
    assert a.shape == (2, 10, D) and not torch.allclose(a, b)
    with pytest.raises(ValueError, match="positions and position_mask must be"):
        net.sample(2, 10, lab, constraints={"positions": pos[:, :, :3], "position_mask": known[:, :, :3]})
    with pytest.raises(ValueError, match="without joint-position conditioning"):
        _net().sample(2, 10, lab, constraints={"positions": pos, "position_mask": known})
    with pytest.raises(ValueError, match="condition_joints must be >= 0"):
        _net(condition_joints=-1)


def test_sampling_denoiser_equals_denoise_and_skips_needless_passes():
    net = _net()
    lab = {"content": torch.tensor([1, 2]), "style": torch.tensor([0, 1])}
    x = torch.randn(2, 10, D)
    c = prefix_constraint(torch.randn(2, 3, D), 10)
    for w in (0.0, 1.0, 3.0):
        for n in (net, _net(parametrization="v")):
            f = n._sampling_denoiser(2, 10, lab, c["mask"], c["values"], w)
            torch.testing.assert_close(f(x, 17), n.denoise(x, torch.full((2,), 17), lab, c["mask"], c["values"], w),
                                       atol=1e-5, rtol=1e-5)
    rows = []  # the batch of every output projection: one per step
    hook = net.out.register_forward_hook(lambda m, a, o: rows.append(o.shape[0]))
    try:
        net.sample(2, 10, lab, steps=3, guidance=1.0)  # the conditional model alone
        net.sample(2, 10, lab, steps=3, guidance=0.0)  # the unconditional model alone
        net.sample(2, 10, None, steps=3, guidance=2.5)  # no label known: nothing to guide
        assert rows == [2] * 9
        net.sample(2, 10, lab, steps=3, guidance=2.5)
        assert rows[9:] == [4] * 3  # conditional and unconditional in one batch
    finally:
        hook.remove()
    out = net.sample(1, 5, None, steps=2)
    assert not out.requires_grad and not out.is_inference()
    out += 1  # an ordinary tensor: callers may update it in place


def test_sampling_in_training_mode_uses_the_reference_path():
    net = _net(dropout=0.0).train()
    lab = {"content": torch.tensor([1]), "style": torch.tensor([0])}
    g = lambda: torch.Generator().manual_seed(2)  # noqa: E731
    a = net.sample(1, 6, lab, generator=g())
    b = net.eval().sample(1, 6, lab, generator=g())
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
