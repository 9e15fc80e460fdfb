"""Motion diffusion: a transformer denoiser over motion features that predicts the clean motion
(x0, as MDM, Tevet et al. 2023), its noise schedule and samplers, classifier-free guidance, and
control by inpainting from the one trained model.

Conventions: ``x (B, T, D)`` normalised features of a ``motion3d.features`` representation (any
skeleton); labels ``{"content", "style"}`` ids ``(B,)`` with ``-1`` for unknown; diffusion time
``t (B,)`` int64 in ``[0, steps)``, ``t = 0`` the least noisy.

The pieces, top to bottom:

1. Schedule (:class:`NoiseSchedule`): ``alpha_bar(t)`` (cosine, Nichol & Dhariwal 2021, or linear
   betas), and ``q_sample``: ``x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) eps``.
2. Denoiser (:class:`MotionDiffusion`): per frame, the noisy features, the known features and
   the mask of what is known (CondMDI, Cohan et al. 2024: the observation enters the input, so one
   model does prediction, in-betweening and root-path following), projected to tokens; plus
   positions; plus one conditioning vector (diffusion time + label embedding) added to every token;
   a non-causal transformer encoder; a linear head. ``parametrization="x0"``: the head's output is
   ``x0`` (MDM); ``"v"``: it is ``v`` (Salimans & Ho 2022) and ``x0 = sqrt(a) x_t - sqrt(1 - a) v``,
   which on normalised features (unit variance) is the preconditioning of Karras et al. 2022 (EDM):
   at low noise the prediction is the input plus a small correction rather than a copy the network
   must learn, at high noise the network's own output. The loss is on ``x0`` either way.
3. Classifier-free guidance (Ho & Salimans 2022): training drops the labels with probability
   ``label_drop`` (to "unknown"); sampling mixes ``x0 = x0_uncond + w (x0_cond - x0_uncond)``:
   ``w = 1`` is the conditional model, ``w = 0`` the unconditional one.
4. Samplers: DDIM (Song et al. 2021; ``eta = 0`` deterministic given the start noise) or DDPM
   ancestral steps, on any sub-sequence of the training steps (:func:`sampling_timesteps`), as pure
   functions of ``(x_t, x0, t, t_prev)``.
5. Control (:meth:`MotionDiffusion.sample` ``constraints``):
   * ``{"mask": (B, T, D) bool, "values": (B, T, D)}``: known features (the first N frames for
     prediction, keyframes for in-betweening, the root trajectory channels for a root path). They
     condition the denoiser at every step and replace the prediction's entries (imputation), so the
     output holds them exactly;
   * ``{"positions": (B, T, J, 3), "position_mask": (B, T, J) bool}`` (a model built with
     ``condition_joints = J``): known global joint positions, in body heights, in the frame the
     clip's decoding starts from (the origin, facing +Z). They condition the denoiser as the known
     features do (the model was trained with them: where a keyframe lies in the world, which its
     features alone do not say, or tracked head, hands and feet); the output is not forced onto them
     (they are not features), which ``guide`` does;
   * ``{"seed": (B, T0, D)}``: shorthand for a known prefix;
   * ``{"guide": f, "guide_scale": s, "guide_iters": k}``: reconstruction guidance for constraints
     that are not features, such as joint positions through forward kinematics: ``f(x0) -> (B,)``
     losses, differentiable in the predicted clean motion ``x0``; at every denoising step ``x0`` takes
     ``k`` gradient steps ``x0 <- x0 - s * grad f(x0)`` before the sampler step (guidance on the x0
     prediction, as OmniControl's spatial guidance, Xie et al. 2024, but on ``x0`` rather than on
     the posterior mean). The network never sees these constraints; the caller builds ``f``
     (e.g. :func:`motion3d.tasks.diffuse.position_guide`), since the network knows no skeleton.
     ``"guide_refine": r``: ``r`` Adam steps of ``f`` on the finished sample, kept near it
     (:func:`refine`); with ``guide_scale`` 0 the refinement alone (no per-step guidance).
     :func:`refine` also runs on its own on a finished sample (e.g.
     :func:`motion3d.tasks.diffuse.plant_feet`, a guide built from that sample).
"""
from __future__ import annotations

import math
from typing import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from motion3d.models.motion.blocks import (MLP, LabelEmbedding, Labels, MotionNet, PositionalEncoding, label_tensor,
                                           transformer_encoder)

#: what the denoiser's head predicts (:class:`MotionDiffusion`)
PARAMETRIZATIONS = ("x0", "v")
#: the samplers of :meth:`MotionDiffusion.sample`
SAMPLERS = ("ddim", "ddpm")

__all__ = ["MotionDiffusion", "PARAMETRIZATIONS", "SAMPLERS", "NoiseSchedule", "sampling_timesteps", "ddim_step",
           "ddpm_step", "prefix_constraint", "noise_like", "refine", "REFINE_LR", "REFINE_PRIOR"]


# ---------------------------------------------------------------------------------------------
# 1. the noise schedule
# ---------------------------------------------------------------------------------------------
class NoiseSchedule(nn.Module):
    """``alpha_bar (steps,)``, the fraction of signal variance left at each diffusion step, as a buffer.

    ``"cosine"``: ``alpha_bar(t) = cos^2(((t + 1)/steps + s) / (1 + s) * pi / 2)`` normalised by its
    value at ``-1`` (Nichol & Dhariwal 2021, ``s = 0.008``), betas clipped at 0.999;
    ``"linear"``: betas from 1e-4 to 0.02 scaled to ``steps`` (Ho et al. 2020).
    """

    def __init__(self, steps: int = 1000, kind: str = "cosine"):
        super().__init__()
        if steps < 2:
            raise ValueError(f"a diffusion needs at least 2 steps, got {steps}")
        n = torch.arange(steps + 1, dtype=torch.float64)
        if kind == "cosine":
            s = 0.008
            f = torch.cos((n / steps + s) / (1 + s) * math.pi / 2) ** 2
            betas = (1 - f[1:] / f[:-1]).clamp(max=0.999)
        elif kind == "linear":
            scale = 1000.0 / steps
            betas = torch.linspace(scale * 1e-4, scale * 0.02, steps, dtype=torch.float64)
        else:
            raise ValueError(f"schedule must be 'cosine' or 'linear', got {kind!r}")
        self.steps, self.kind = int(steps), kind
        self.register_buffer("alpha_bar", torch.cumprod(1 - betas, 0).float(), persistent=False)

    def at(self, t: torch.Tensor) -> torch.Tensor:
        """``alpha_bar`` at steps ``t (B,)`` (``t = -1``: 1, no noise) -> ``(B, 1, 1)``."""
        a = torch.where(t >= 0, self.alpha_bar[t.clamp(min=0)], torch.ones_like(self.alpha_bar[:1]))
        return a.view(-1, 1, 1)

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """``x_t = sqrt(a) x0 + sqrt(1 - a) noise`` for ``x0, noise (B, T, D)``, ``t (B,)``."""
        a = self.at(t)
        return a.sqrt() * x0 + (1 - a).sqrt() * noise


def sampling_timesteps(train_steps: int, steps: int) -> list[int]:
    """``steps`` diffusion steps, evenly spaced over ``[0, train_steps)``, from the noisiest down to 0."""
    steps = max(1, min(int(steps), int(train_steps)))
    ts = torch.linspace(train_steps - 1, 0, steps).round().long().tolist()
    return list(dict.fromkeys(ts))  # distinct, descending


# ---------------------------------------------------------------------------------------------
# 4. the samplers: one step from x_t at t to x_{t_prev}, given the predicted clean motion
# ---------------------------------------------------------------------------------------------
def _eps(x_t: torch.Tensor, x0: torch.Tensor, a_t: torch.Tensor) -> torch.Tensor:
    """The noise implied by ``x_t`` and a clean prediction ``x0`` at signal fraction ``a_t``."""
    return (x_t - a_t.sqrt() * x0) / (1 - a_t).sqrt().clamp(min=1e-8)


def ddim_step(schedule: NoiseSchedule, x_t: torch.Tensor, x0: torch.Tensor, t: int, t_prev: int, eta: float = 0.0,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """DDIM (Song et al. 2021, eq. 12): ``x_{t_prev} = sqrt(a') x0 + sqrt(1 - a' - sigma^2) eps + sigma z``
    with ``sigma = eta sqrt((1 - a')/(1 - a) (1 - a/a'))``; ``t_prev = -1`` returns ``x0``."""
    if t_prev < 0:
        return x0
    B = x_t.shape[0]
    a_t = schedule.at(torch.full((B,), t, device=x_t.device))
    a_p = schedule.at(torch.full((B,), t_prev, device=x_t.device))
    eps = _eps(x_t, x0, a_t)
    sigma = eta * ((1 - a_p) / (1 - a_t) * (1 - a_t / a_p)).clamp(min=0).sqrt()
    out = a_p.sqrt() * x0 + (1 - a_p - sigma ** 2).clamp(min=0).sqrt() * eps
    if eta > 0:
        out = out + sigma * noise_like(out, generator)
    return out


def ddpm_step(schedule: NoiseSchedule, x_t: torch.Tensor, x0: torch.Tensor, t: int, t_prev: int,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """Ancestral step from the posterior ``q(x_{t_prev} | x_t, x0)`` (Ho et al. 2020, eq. 6-7), over
    any gap ``t -> t_prev`` (the betas of the skipped steps compounded); ``t_prev = -1`` returns ``x0``."""
    if t_prev < 0:
        return x0
    B = x_t.shape[0]
    a_t = schedule.at(torch.full((B,), t, device=x_t.device))
    a_p = schedule.at(torch.full((B,), t_prev, device=x_t.device))
    alpha = a_t / a_p  # the signal kept from t_prev to t
    beta = 1 - alpha
    mean = (a_p.sqrt() * beta * x0 + alpha.sqrt() * (1 - a_p) * x_t) / (1 - a_t)
    var = beta * (1 - a_p) / (1 - a_t)
    return mean + var.clamp(min=0).sqrt() * noise_like(mean, generator)


def noise_like(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Standard normal noise shaped like ``x``, drawn on the generator's device (reproducible on CPU)."""
    if generator is None:
        return torch.randn_like(x)
    return torch.randn(x.shape, generator=generator, device=generator.device, dtype=x.dtype).to(x.device)


def prefix_constraint(seed: torch.Tensor, length: int) -> dict[str, torch.Tensor]:
    """``{"mask", "values"}`` ``(B, length, D)`` for known first frames ``seed (B, T0, D)``."""
    B, T0, D = seed.shape
    mask = torch.zeros(B, length, D, dtype=torch.bool, device=seed.device)
    mask[:, :T0] = True
    values = torch.zeros(B, length, D, dtype=seed.dtype, device=seed.device)
    values[:, :T0] = seed[:, :length]
    return {"mask": mask, "values": values}


# ---------------------------------------------------------------------------------------------
# 2. the denoiser
# ---------------------------------------------------------------------------------------------
class MotionDiffusion(MotionNet):
    """Transformer denoiser predicting clean motion ``x0 (B, T, D)`` (see the module docstring).

    Args:
        input_dim, num_content, num_style: feature width D and label counts (from the data).
        dim, layers, heads, ff_dim, dropout: the transformer.
        max_len: longest clip (positional encodings).
        diffusion_steps, schedule: the training diffusion (:class:`NoiseSchedule`).
        conditional: use the labels (with classifier-free guidance at sampling).
        label_drop: probability, in training, of replacing a clip's labels by "unknown" (the
            unconditional model that guidance needs).
        sample_steps, sampler, guidance, eta: sampling defaults (``"ddim"`` or ``"ddpm"``; the
            guidance weight ``w``; DDIM's ``eta``).
        parametrization: what the head predicts, ``"x0"`` or ``"v"`` (module docstring, 2.).
        condition_joints: J, the joints whose global positions can condition the denoiser (module
            docstring, 5.; the task sets it from the skeleton); 0: features only.
    """

    def __init__(self, input_dim: int, num_content: int = 0, num_style: int = 0, dim: int = 256, layers: int = 4,
                 heads: int = 4, ff_dim: int = 512, dropout: float = 0.1, max_len: int = 256,
                 diffusion_steps: int = 1000, schedule: str = "cosine", conditional: bool = True,
                 label_drop: float = 0.1, sample_steps: int = 50, sampler: str = "ddim", guidance: float = 1.0,
                 eta: float = 0.0, parametrization: str = "x0", condition_joints: int = 0):
        super().__init__()
        _check_sampler(sampler)
        if parametrization not in PARAMETRIZATIONS:
            raise ValueError(f"parametrization must be one of {PARAMETRIZATIONS}, got {parametrization!r}")
        self.parametrization = parametrization
        if not 0.0 <= label_drop < 1.0:
            raise ValueError(f"label_drop must be in [0, 1), got {label_drop}")
        self.input_dim = int(input_dim)
        self.num_content = int(num_content) if conditional else 0
        self.num_style = int(num_style) if conditional else 0
        self.max_len = int(max_len)
        self.label_drop = float(label_drop)
        self.sample_steps, self.sampler, self.guidance, self.eta = int(sample_steps), sampler, float(guidance), float(eta)
        self.schedule = NoiseSchedule(diffusion_steps, schedule)
        if int(condition_joints) < 0:
            raise ValueError(f"condition_joints must be >= 0, got {condition_joints}")
        self.condition_joints = int(condition_joints)
        # per frame: noisy features, known features, their mask [, known joint positions, their mask]
        self.inp = nn.Linear(3 * self.input_dim + 4 * self.condition_joints, dim)
        self.pos = PositionalEncoding(dim, max_len=self.max_len, dropout=dropout)
        self.time = MLP(dim, dim, dim, layers=2)
        self.labels = LabelEmbedding(dim, self.num_content, self.num_style)
        self.encoder = transformer_encoder(dim, heads, layers, ff_dim, dropout)
        self.norm = nn.LayerNorm(dim)
        self.out = nn.Linear(dim, self.input_dim)
        self.dim = int(dim)

    @property
    def diffusion_steps(self) -> int:
        return self.schedule.steps

    # ------------------------------------------------------------------ the network
    def forward(self, x_t: torch.Tensor, t: torch.Tensor, labels: Labels = None, mask: torch.Tensor | None = None,
                values: torch.Tensor | None = None, positions: torch.Tensor | None = None,
                position_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Predicted clean motion ``(B, T, D)`` from noisy ``x_t (B, T, D)`` at steps ``t (B,)``,
        given ``labels``, the known features (``mask (B, T, D)`` bool, ``values (B, T, D)``) and
        the known joint positions (``positions (B, T, J, 3)``, ``position_mask (B, T, J)``; module
        docstring, 5.)."""
        B, T, D = x_t.shape
        if D != self.input_dim:
            raise ValueError(f"features must have {self.input_dim} channels, got {D}")
        if T > self.max_len:
            raise ValueError(f"clips of {T} frames are longer than this model's max_len={self.max_len}")
        h = self.inp(torch.cat([x_t, self._known(B, T, mask, values, positions, position_mask, x_t)], dim=-1))
        cond = self.time(_time_embedding(t, self.dim))  # (B, dim): the diffusion step
        if self.labels.conditional:
            cond = cond + self.labels(labels, B, x_t.device)
        h = self.pos(h) + cond[:, None, :]
        return self._x0(self.out(self.norm(self.encoder(h))), x_t, self.schedule.at(t))

    def _known(self, B: int, T: int, mask: torch.Tensor | None, values: torch.Tensor | None,
               positions: torch.Tensor | None, position_mask: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
        """``(B, T, 2 D + 4 J)``: what is known, the input channels after ``x_t``: ``[values * m, m]``
        of the features, then ``[positions * pm, pm]`` of the joints (zeros where not given)."""
        D, J = self.input_dim, self.condition_joints
        if mask is None:
            parts = [like.new_zeros(B, T, 2 * D)]
        else:
            m = mask.to(like.dtype)
            parts = [values.to(like.dtype) * m, m]
        if positions is not None and J == 0:
            raise ValueError("this model was trained without joint-position conditioning (condition_joints=0)")
        if J:
            if positions is None:
                parts.append(like.new_zeros(B, T, 4 * J))
            else:
                pm = position_mask.to(like.dtype)  # (B, T, J)
                parts += [(positions.to(like.dtype) * pm[..., None]).flatten(-2), pm]
        return torch.cat(parts, dim=-1)

    def _x0(self, y: torch.Tensor, x_t: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """The clean prediction from the head's output ``y`` at signal fraction ``a`` (broadcast
        with ``x_t``): ``y`` itself, or ``sqrt(a) x_t - sqrt(1 - a) y`` for ``v``."""
        if self.parametrization == "x0":
            return y
        return a.sqrt() * x_t - (1 - a).sqrt() * y

    def drop_labels(self, labels: Labels, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Training labels with each clip's labels replaced by "unknown" (-1) with probability
        ``label_drop`` (both kinds together: the unconditional model guidance needs)."""
        if not labels:
            return {}
        out = {k: v for k, v in labels.items() if v is not None}
        if not out or self.label_drop <= 0:
            return out
        first = next(iter(out.values()))
        drop = torch.rand(first.shape[0], device=first.device) < self.label_drop
        return {k: torch.where(drop, torch.full_like(v, -1), v) for k, v in out.items()}

    def _has_labels(self, labels: Labels) -> bool:
        """Whether classifier-free guidance applies: a conditional model and at least one known label."""
        return bool(self.labels.conditional and labels and any(
            v is not None and bool((torch.as_tensor(v) >= 0).any()) for v in labels.values()))

    def denoise(self, x_t: torch.Tensor, t: torch.Tensor, labels: Labels, mask: torch.Tensor | None,
                values: torch.Tensor | None, guidance: float, positions: torch.Tensor | None = None,
                position_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x0`` with classifier-free guidance ``w``: ``x0_u + w (x0_c - x0_u)`` (one batched pass;
        ``w = 1`` or an unconditional model: the plain conditional prediction). The reference of
        :meth:`sample`'s faster per-run denoiser (:meth:`_sampling_denoiser`)."""
        if not self._has_labels(labels) or guidance == 1.0:
            return self(x_t, t, labels, mask, values, positions, position_mask)
        B = x_t.shape[0]
        unknown = {k: torch.full((B,), -1, dtype=torch.long, device=x_t.device) for k in ("content", "style")}
        both = {k: torch.cat([label_tensor(labels, k, B, x_t.device), unknown[k]]) for k in ("content", "style")}
        two = lambda a: None if a is None else torch.cat([a, a])  # noqa: E731
        x0_c, x0_u = self(two(x_t), two(t), both, two(mask), two(values), two(positions),
                          two(position_mask)).chunk(2)
        if guidance == 0.0:
            return x0_u
        return x0_u + guidance * (x0_c - x0_u)

    def _sampling_denoiser(self, n: int, length: int, labels: Labels, mask: torch.Tensor | None,
                           values: torch.Tensor | None, guidance: float, positions: torch.Tensor | None = None,
                           position_mask: torch.Tensor | None = None
                           ) -> Callable[[torch.Tensor, int], torch.Tensor]:
        """``f(x_t (n, T, D), t) -> x0 (n, T, D)``: :meth:`denoise` for one sampling run, with what
        does not change between steps computed once.

        The input projection is split by its inputs: ``W [x_t, known] + b = W_x x_t + (W_k known + b)``
        (``known``: the features and joint positions given, :meth:`_known`), the bracket computed once
        with the positional encodings and the label embeddings; ``W_x x_t`` is computed once for
        both halves of classifier-free guidance (they see the same ``x_t``); the conditional and
        unconditional passes run as one batch of ``2n`` (one only with ``w = 1``, an unconditional
        model or no known label; the unconditional one alone with ``w = 0``); the step's time
        embedding is one row; the encoder runs on :func:`torch.nn.functional.scaled_dot_product_attention`
        (:func:`_encode`). Equal to :meth:`denoise` up to float rounding (~1e-6). In training mode
        (dropout) it is :meth:`denoise` itself."""
        device = self.out.weight.device
        if self.training:
            return lambda x, t: self.denoise(x, torch.full((n,), t, device=device, dtype=torch.long), labels, mask,
                                             values, guidance, positions, position_mask)
        D = self.input_dim
        conditional = self._has_labels(labels) and guidance != 1.0
        if self._has_labels(labels) and guidance == 0.0:  # the unconditional model alone
            labels, conditional = None, False
        W = self.inp.weight  # (dim, 3D + 4J): [x_t | known]
        if mask is None and positions is None:
            base = self.inp.bias.expand(n, length, self.dim)
        else:
            like = W.new_empty(())
            base = F.linear(self._known(n, length, mask, values, positions, position_mask, like), W[:, D:],
                            self.inp.bias)
        base = base + self.pos.encoding(length, device=device, dtype=W.dtype)  # (n, T, dim)
        if self.labels.conditional:
            if conditional:
                both = {k: torch.cat([label_tensor(labels, k, n, device), torch.full((n,), -1, dtype=torch.long,
                                                                                    device=device)])
                        for k in ("content", "style")}
                base = torch.cat([base, base]) + self.labels(both, 2 * n, device)[:, None, :]  # (2n, T, dim)
            else:
                base = base + self.labels(labels, n, device)[:, None, :]
        W_x = W[:, :D].contiguous()
        w = float(guidance)

        def f(x_t: torch.Tensor, t: int) -> torch.Tensor:
            h = F.linear(x_t, W_x)  # (n, T, dim)
            cond = self.time(_time_embedding(torch.tensor([t], device=device), self.dim))  # (1, dim)
            if conditional:
                h = h.repeat(2, 1, 1)
            y = self.out(self.norm(_encode(self.encoder, h + base + cond[:, None, :])))
            if conditional:
                y_c, y_u = y.chunk(2)
                y = y_u + w * (y_c - y_u)  # x0 is affine in y with the same x_t: guidance mixes either
            return self._x0(y, x_t, self.schedule.at(torch.tensor([t], device=device)))

        return f

    # ------------------------------------------------------------------ sampling
    def sample(self, n: int, length: int, labels: Labels = None, generator: torch.Generator | None = None,
               temperature: float = 1.0, constraints: Mapping | None = None, steps: int | None = None,
               guidance: float | None = None, sampler: str | None = None, samples: int = 1) -> torch.Tensor:
        """``n`` clips ``(n, length, D)`` (see the module docstring for ``constraints``).

        ``steps``, ``guidance``, ``sampler``: override the defaults of the constructor;
        ``temperature`` scales the start noise. The known features of ``constraints`` are in the
        output exactly. ``samples > 1``: each clip is the mean (features averaged) of that many
        independent draws, the refinement (``guide_refine``) then run on the mean: an estimate of
        the posterior mean, which has the lower expected squared error where one answer is wanted
        (in-betweening, tracked joints), at the cost of variety and of some detail (a mean of
        motions is smoother than any of them); ``samples = 1`` is one draw, as generation wants.
        Runs under :func:`torch.inference_mode` (:func:`torch.no_grad` when a ``guide`` needs
        gradients of ``x0``); the result is an ordinary tensor either way."""
        if int(samples) < 1:
            raise ValueError(f"samples must be >= 1, got {samples}")
        steps = self.sample_steps if steps is None else int(steps)
        guidance = self.guidance if guidance is None else float(guidance)
        sampler = _check_sampler(self.sampler if sampler is None else sampler)
        if int(length) > self.max_len:
            raise ValueError(f"length {length} is longer than this model's max_len={self.max_len}")
        mask, values, positions, position_mask, guide = self._constraints(constraints, int(n), int(length))
        g = dict(constraints or {})
        scale, iters = float(g.get("guide_scale", 1.0)), int(g.get("guide_iters", 1))
        refine_steps = int(g.get("guide_refine", 0))
        with torch.no_grad() if guide is not None else torch.inference_mode():
            device = self.out.weight.device
            denoise = self._sampling_denoiser(int(n), int(length), labels, mask, values, guidance, positions,
                                              position_mask)
            ts = sampling_timesteps(self.diffusion_steps, steps)
            total = None
            for _ in range(int(samples)):
                x = noise_like(torch.empty(int(n), int(length), self.input_dim, device=device), generator) * temperature
                for i, t in enumerate(ts):
                    t_prev = ts[i + 1] if i + 1 < len(ts) else -1
                    x0 = denoise(x, t)
                    if guide is not None and scale != 0:
                        x0 = _guided(x0, guide, scale, iters)
                    if mask is not None:
                        x0 = torch.where(mask, values, x0)
                    x = ddim_step(self.schedule, x, x0, t, t_prev, self.eta, generator) if sampler == "ddim" \
                        else ddpm_step(self.schedule, x, x0, t, t_prev, generator)
                total = x if total is None else total + x
            x = total / int(samples)
            x = torch.where(mask, values, x) if mask is not None else x
            if guide is not None and refine_steps > 0:
                x = refine(x, guide, refine_steps, mask)
        return x if guide is not None else x.clone()  # a normal tensor, not an inference tensor

    def _constraints(self, constraints: Mapping | None, n: int, length: int):
        """``(mask, values, positions, position_mask, guide)`` on this model's device from the
        ``constraints`` dict."""
        c = dict(constraints or {})
        unknown = set(c) - {"seed", "mask", "values", "positions", "position_mask", "guide", "guide_scale",
                            "guide_iters", "guide_refine"}
        if unknown:
            raise ValueError(f"unknown constraint(s) {sorted(unknown)}; MotionDiffusion takes seed, mask + values, "
                             "positions + position_mask, guide (+ guide_scale, guide_iters, guide_refine)")
        device = self.out.weight.device
        mask = values = None
        if "seed" in c:
            if "mask" in c:
                raise ValueError("give either a seed or a mask + values, not both")
            c.update(prefix_constraint(torch.as_tensor(c["seed"]).float(), length))
        if "mask" in c:
            mask = torch.as_tensor(c["mask"]).to(device=device, dtype=torch.bool)
            values = torch.as_tensor(c.get("values")).to(device=device, dtype=torch.float32)
            want = (n, length, self.input_dim)
            if tuple(mask.shape) != want or tuple(values.shape) != want:
                raise ValueError(f"mask and values must be {want}, got {tuple(mask.shape)} and {tuple(values.shape)}")
        positions = position_mask = None
        if "positions" in c:
            if not self.condition_joints:
                raise ValueError("this model was trained without joint-position conditioning (condition_joints=0): "
                                 "give joint positions as a guide")
            positions = torch.as_tensor(c["positions"]).to(device=device, dtype=torch.float32)
            want = (n, length, self.condition_joints)
            position_mask = torch.as_tensor(c.get("position_mask", torch.ones(want, dtype=torch.bool))).to(
                device=device, dtype=torch.bool)
            if tuple(positions.shape) != want + (3,) or tuple(position_mask.shape) != want:
                raise ValueError(f"positions and position_mask must be {want + (3,)} and {want}, got "
                                 f"{tuple(positions.shape)} and {tuple(position_mask.shape)}")
        guide = c.get("guide")
        if guide is not None and not callable(guide):
            raise ValueError("the 'guide' constraint is a function of the predicted clean motion")
        return mask, values, positions, position_mask, guide


def _check_sampler(sampler: str) -> str:
    """``sampler`` if it is one of :data:`SAMPLERS`, else a ValueError naming them."""
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    return sampler


def _time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embeddings ``(B, dim)`` of diffusion steps ``t (B,)``."""
    half = dim // 2
    freq = torch.exp(torch.arange(half, device=t.device, dtype=torch.float32) * (-math.log(10000.0) / max(half, 1)))
    arg = t.float()[:, None] * freq[None, :]
    emb = torch.cat([arg.sin(), arg.cos()], dim=-1)
    return emb if emb.shape[-1] == dim else torch.cat([emb, emb.new_zeros(emb.shape[0], 1)], dim=-1)


def _encode(encoder: nn.TransformerEncoder, h: torch.Tensor) -> torch.Tensor:
    """``encoder(h)`` for ``h (B, T, dim)`` in eval mode, each layer written out on
    :func:`torch.nn.functional.scaled_dot_product_attention` (PyTorch's fused CPU kernel; faster
    than the encoder's own inference path, which computes attention with explicit ``bmm`` and
    ``softmax`` and copies the heads). Layers that are not the pre-norm GELU layers of
    :func:`motion3d.models.motion.blocks.transformer_encoder`, or a training-mode encoder, run as
    they are."""
    layers = encoder.layers
    if encoder.training or encoder.norm is not None or not all(
            l.norm_first and l.activation_relu_or_gelu == 2 and l.self_attn.batch_first
            and l.self_attn._qkv_same_embed_dim and l.self_attn.in_proj_bias is not None for l in layers):
        return encoder(h)
    B, T, d = h.shape
    for l in layers:
        a = l.self_attn
        H = a.num_heads
        q, k, v = F.linear(l.norm1(h), a.in_proj_weight, a.in_proj_bias).view(B, T, 3, H, d // H).permute(2, 0, 3, 1, 4)
        h = h + a.out_proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, T, d))
        h = h + l.linear2(F.gelu(l.linear1(l.norm2(h))))
    return h


#: Adam step and pull towards the sample of :func:`refine`
REFINE_LR, REFINE_PRIOR = 0.02, 1e-3


def refine(x: torch.Tensor, guide: Callable[[torch.Tensor], torch.Tensor], iters: int,
           mask: torch.Tensor | None = None) -> torch.Tensor:
    """The finished sample ``x (B, T, D)`` moved by ``iters`` Adam steps on ``guide(x) + REFINE_PRIOR *
    mean((x - sample)^2)``: guidance during denoising brings the constrained joints near their targets,
    this brings them onto them while staying close to the sample. Known features stay as given."""
    start = x.detach().clone()
    with torch.enable_grad():
        y = start.clone().requires_grad_(True)
        opt = torch.optim.Adam([y], lr=REFINE_LR)
        for _ in range(int(iters)):
            opt.zero_grad()
            loss = guide(y).sum() + REFINE_PRIOR * (y - start).square().mean((1, 2)).sum()
            loss.backward()
            if mask is not None:
                y.grad[mask.expand_as(y)] = 0.0
            opt.step()
    return y.detach()


def _guided(x0: torch.Tensor, guide: Callable[[torch.Tensor], torch.Tensor], scale: float, iters: int) -> torch.Tensor:
    """``iters`` gradient steps of the summed guide losses on ``x0`` (reconstruction guidance)."""
    with torch.enable_grad():
        x = x0.detach().clone()
        for _ in range(max(1, iters)):
            x.requires_grad_(True)
            loss = guide(x).sum()
            (grad,) = torch.autograd.grad(loss, x)
            x = (x - scale * grad).detach()
    return x
