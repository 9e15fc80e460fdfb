"""Motion networks (plain ``nn.Module``s, no training logic) on ``(B, T, D)`` normalised features.

* :class:`Seq2SeqGRU`: Martinez et al. 2017 residual seq2seq GRU (prediction, free rollout).
* :class:`MotionTransformer`: causal transformer (prediction, generation; scheduled sampling).
* :class:`MotionVAE`: ACTOR-style conditional transformer VAE (whole clips of any length).
* :class:`MotionClassifier`: content/style recognition; its features drive FID and diversity.
* :class:`MotionDiffusion`: MDM-style x0-predicting transformer denoiser with classifier-free
  guidance and inpainting controls (generation, prediction, in-betweening, root paths, trackers).
* :class:`CleanupNet`: residual dilated temporal convolution that repairs corrupted capture
  (jitter, spikes, swaps, gaps given as a mask, foot sliding).

Each records its constructor arguments in ``net.config``; :func:`motion3d.models.config.build` rebuilds it.
"""
from motion3d.models.motion.blocks import (MLP, LabelEmbedding, MotionNet, PositionalEncoding,
                                           causal_mask, sinusoidal_table)
from motion3d.models.motion.classifier import MotionClassifier
from motion3d.models.motion.cleanup import CleanupNet
from motion3d.models.motion.diffusion import MotionDiffusion
from motion3d.models.motion.rnn import Seq2SeqGRU
from motion3d.models.motion.transformer import MotionTransformer
from motion3d.models.motion.vae import MotionVAE

__all__ = ["Seq2SeqGRU", "MotionTransformer", "MotionVAE", "MotionClassifier", "MotionDiffusion", "CleanupNet", "MotionNet",
           "PositionalEncoding", "LabelEmbedding", "MLP", "causal_mask", "sinusoidal_table"]
