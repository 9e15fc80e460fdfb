"""motion3d.tasks.losses: loss weights by name, one dataclass per task."""
from __future__ import annotations

import pytest

from motion3d.tasks.generate import GenerationWeights
from motion3d.tasks.losses import ReconstructionWeights
from motion3d.tasks.recognize import RecognitionWeights
from motion3d.tasks.retarget import RetargetWeights
from motion3d.tasks.stylize import StyleWeights


def test_weights_by_name_with_defaults():
    w = GenerationWeights.of({"kl": 0.01, "spectral": 1})
    assert (w.kl, w.spectral, w.feature, w.position, w.contact) == (0.01, 1.0, 1.0, 1.0, 0.1)
    assert GenerationWeights.of(None) == GenerationWeights()
    assert isinstance(StyleWeights.of(None), ReconstructionWeights)  # style adds terms to the reconstruction's
    same = ReconstructionWeights(position=0.5)
    copy = ReconstructionWeights.of(same)
    assert copy == same and copy is not same
    assert RecognitionWeights().to_dict() == {"content": 1.0, "style": 1.0}
    assert set(RetargetWeights().to_dict()) == {"feature", "position", "latent", "effector", "adversarial"}


def test_unknown_or_negative_weights_are_errors():
    with pytest.raises(ValueError, match=r"ReconstructionWeights has no weight\(s\) \['kl'\]; known: \['feature'"):
        ReconstructionWeights.of({"kl": 1.0})
    with pytest.raises(ValueError, match="must be >= 0"):
        RecognitionWeights.of({"style": -1})
    with pytest.raises(ValueError, match="must be >= 0"):
        RecognitionWeights.of({"style": float("nan")})
    with pytest.raises(TypeError, match="expected a mapping"):
        RecognitionWeights.of([1.0, 2.0])
