"""What the adversarially trained tasks (retarget, stylize) share: one optimiser step under manual
optimisation, and the hinge losses of a discriminator."""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["manual_step", "hinge_real", "hinge_fake"]


def manual_step(module, optimizer, loss: torch.Tensor, grad_clip: float = 0.0) -> None:
    """``zero_grad``, ``manual_backward(loss)`` (so precision plugins and DDP apply), gradient-norm
    clipping at ``grad_clip`` (0: none), ``step`` of ``optimizer`` for a LightningModule with
    ``automatic_optimization = False``."""
    optimizer.zero_grad(set_to_none=True)
    module.manual_backward(loss)
    if grad_clip > 0:
        module.clip_gradients(optimizer, gradient_clip_val=grad_clip, gradient_clip_algorithm="norm")
    optimizer.step()


def hinge_real(logits: torch.Tensor) -> torch.Tensor:
    """Discriminator hinge loss on real samples' logits ``(N, ...)``: ``mean(relu(1 - D(x)))``."""
    return F.relu(1.0 - logits).mean()


def hinge_fake(logits: torch.Tensor) -> torch.Tensor:
    """Discriminator hinge loss on generated samples' logits: ``mean(relu(1 + D(G(z))))``."""
    return F.relu(1.0 + logits).mean()
