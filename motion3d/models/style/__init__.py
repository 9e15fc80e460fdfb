"""Motion style transfer networks (plain ``nn.Module``s) after Aberman et al. 2020.

* :class:`StyleTransferNet`: the whole model (what configs and checkpoints name).
* :class:`ContentEncoder`, :class:`StyleEncoder`, :class:`AdaINDecoder`,
  :class:`MultiStyleDiscriminator`: its parts; :func:`adain`, :func:`instance_norm` its layers.
"""
from motion3d.models.style.decoder import AdaINDecoder
from motion3d.models.style.discriminator import MultiStyleDiscriminator
from motion3d.models.style.encoders import ContentEncoder, StyleEncoder
from motion3d.models.style.layers import AdaINParams, ConvLayer, adain, instance_norm
from motion3d.models.style.transfer import StyleTransferNet

__all__ = ["StyleTransferNet", "ContentEncoder", "StyleEncoder", "AdaINDecoder", "MultiStyleDiscriminator",
           "AdaINParams", "ConvLayer", "adain", "instance_norm"]
