"""The whole style-transfer network (Aberman et al. 2020, "Unpaired motion style transfer from
video to animation"), built from plain constructor arguments and the data's dimensions.

    content clip (B, T, D) --ContentEncoder--> content code (B, C, T/2)  --.
    style clip   (B, T', D) --StyleEncoder--> style code (B, S) --or--     +--AdaINDecoder--> (B, T, D)
    style label  (B,)       --nn.Embedding--> style code (B, S) ----------'
    MultiStyleDiscriminator: (B, T, D) -> (B, num_style) realism per style

Features are the normalised frames of a ``motion3d.features`` representation.
"""
from __future__ import annotations

import torch
from torch import nn

from motion3d.models.motion.blocks import MotionNet
from motion3d.models.style.decoder import AdaINDecoder
from motion3d.models.style.discriminator import MultiStyleDiscriminator
from motion3d.models.style.encoders import ContentEncoder, StyleEncoder

__all__ = ["StyleTransferNet"]


class StyleTransferNet(MotionNet):
    """Content encoder, style encoder + style embedding, AdaIN decoder, multi-style discriminator.

    Args:
        input_dim: D, channels per frame.
        num_content: content labels (unused by the network; recorded for the data check).
        num_style: style labels (embedding rows and discriminator outputs).
        channels: width of the encoders and decoder.
        style_dim: S, the style code width.
        content_layers, decoder_layers, style_layers: conv layers of each part.
        downsample: times the content code halves T (the decoder doubles it back); clips are
            padded to a multiple of ``2^downsample`` frames and cropped back.
        kernel: temporal kernel size.
        disc_channels, disc_layers: the discriminator.
        residual: residual layers in the content encoder and the AdaIN decoder (see
            :class:`ContentEncoder` and :class:`AdaINDecoder`: the content's mean pose reaches the
            output through the skips).
        content_first_norm: ``"instance"`` or ``"none"``: the content encoder's first layer.
    """

    def __init__(self, input_dim: int, num_content: int = 0, num_style: int = 0, channels: int = 128,
                 style_dim: int = 64, content_layers: int = 3, decoder_layers: int = 3, style_layers: int = 3,
                 downsample: int = 1, kernel: int = 5, disc_channels: int = 96, disc_layers: int = 3,
                 residual: bool = False, content_first_norm: str = "instance"):
        super().__init__()
        if num_style <= 0:
            raise ValueError("StyleTransferNet needs style labels (num_style > 0)")
        self.input_dim, self.num_content, self.num_style = int(input_dim), int(num_content), int(num_style)
        self.style_dim, self.downsample = int(style_dim), int(downsample)
        self.content_encoder = ContentEncoder(input_dim, channels, content_layers, downsample, kernel, residual,
                                              content_first_norm)
        self.style_encoder = StyleEncoder(input_dim, style_dim, channels, style_layers, kernel)
        self.style_embedding = nn.Embedding(self.num_style, style_dim)
        nn.init.normal_(self.style_embedding.weight, std=1.0)
        self.decoder = AdaINDecoder(input_dim, channels, style_dim, decoder_layers, downsample, kernel,
                                    residual=residual)
        self.discriminator = MultiStyleDiscriminator(input_dim, self.num_style, disc_channels, disc_layers, kernel)

    # ------------------------------------------------------------------ parts
    def discriminator_parameters(self) -> list[nn.Parameter]:
        return list(self.discriminator.parameters())

    def generator_parameters(self) -> list[nn.Parameter]:
        skip = {id(p) for p in self.discriminator.parameters()}
        return [p for p in self.parameters() if id(p) not in skip]

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        m = 2 ** self.downsample
        extra = (-x.shape[1]) % m
        if not extra:
            return x
        return torch.cat([x, x[:, -1:].expand(-1, extra, -1)], dim=1)

    def encode_content(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, D) -> (B, C, ceil(T / 2^downsample))``."""
        return self.content_encoder(self._pad(x))

    def encode_style(self, x: torch.Tensor) -> torch.Tensor:
        """Style code ``(B, S)`` of example clips ``(B, T', D)``."""
        return self.style_encoder(x)

    def embed_style(self, style: torch.Tensor) -> torch.Tensor:
        """Style code ``(B, S)`` of style label ids ``(B,)``."""
        style = style.long()
        if (style < 0).any() or (style >= self.num_style).any():
            raise ValueError(f"style label out of range [0, {self.num_style - 1}]: {style.tolist()}")
        return self.style_embedding(style)

    def decode(self, content: torch.Tensor, code: torch.Tensor, length: int | None = None) -> torch.Tensor:
        """``content (B, C, T'), code (B, S) -> (B, length or T' * 2^downsample, D)``."""
        y = self.decoder(content, code)
        return y if length is None else y[:, :length]

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """Content clips ``x (B, T, D)`` performed with style codes ``code (B, S)``: ``(B, T, D)``."""
        return self.decode(self.encode_content(x), code, x.shape[1])
