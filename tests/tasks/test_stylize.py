"""StyleTransferTask through tools/train.py with the real config (a few steps on a few Bandai-Namco
walks), its checkpoint (weights_only, context), and the style evaluation through tools/evaluate.py."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
import torch

from motion3d.paths import REPO_ROOT
from motion3d.tasks.checkpoint import load_motion_checkpoint

from tests.copying import copy_writable

CONFIG = REPO_ROOT / "configs" / "style" / "bandai_style.yaml"
SUBSET = '["*_walk_*_001.bvh"]'


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(f"_tool_{name}", REPO_ROOT / "tools" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def fit_style(root: Path, cache: Path, config: Path = CONFIG, steps: int = 3, extra=()) -> Path:
    """Train ``config`` for ``steps`` steps on the walk subset; the last checkpoint."""
    torch.set_num_threads(1)
    _tool("train").main(["fit", "-c", str(config), "--threads", "1", "--trainer.max_steps", str(steps),
                         "--trainer.default_root_dir", str(root), "--trainer.limit_val_batches", "1",
                         "--trainer.val_check_interval", "2", "--trainer.enable_progress_bar", "false",
                         "--trainer.enable_model_summary", "false", "--data.init_args.include", SUBSET,
                         "--data.init_args.batch_size", "8", "--data.init_args.cache_dir", str(cache),
                         *extra])
    last = sorted(root.rglob("last.ckpt"))
    assert last, f"no last.ckpt under {root}"
    return last[-1]


@pytest.fixture(scope="module")
def cache(bandai_dir, tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mocap_cache")


@pytest.fixture(scope="module")
def style_ckpt(cache, tmp_path_factory) -> Path:
    return fit_style(tmp_path_factory.mktemp("style"), cache,
                     extra=["--model.init_args.video_every_n_epochs", "1"])


def test_config_trains_and_checkpoint_carries_context(style_ckpt):
    ckpt = torch.load(style_ckpt, map_location="cpu", weights_only=True)
    meta = ckpt["motion3d"]
    assert meta["task"] == "stylize" and ckpt["global_step"] >= 3
    assert meta["context"]["window"] == 64 and "angry" in meta["context"]["label_names"]["style"]
    assert meta["net"]["class_path"].endswith("StyleTransferNet")
    assert meta["data"]["init_args"]["include"] == ["*_walk_*_001.bvh"]
    assert meta["hparams"]["root"] == "content"
    net, ctx, _ = load_motion_checkpoint(style_ckpt, "stylize")
    assert net.num_style == len(ctx.label_names["style"])
    x = torch.zeros(2, 64, ctx.dim)
    assert net(x, net.embed_style(torch.tensor([0, 1]))).shape == x.shape


def test_content_root_is_kept(style_ckpt):
    from motion3d.tasks.stylize import stylize_features

    net, ctx, _ = load_motion_checkpoint(style_ckpt, "stylize")
    x = torch.randn(2, 40, ctx.dim)
    code = net.embed_style(torch.tensor([2, 3]))
    out = stylize_features(net, ctx, x, code, "content")
    rep = ctx.representation
    a, b = rep.layout["root_height"][0], rep.layout["root_angular_velocity"][1]
    assert torch.equal(out[..., a:b], x[..., a:b])
    assert not torch.equal(stylize_features(net, ctx, x, code, "predict")[..., a:b], x[..., a:b])


def test_style_strength_interpolates_codes(style_ckpt):
    from motion3d.tasks.stylize import stylize_features

    net, ctx, _ = load_motion_checkpoint(style_ckpt, "stylize")
    x = torch.randn(2, 40, ctx.dim)
    code = net.embed_style(torch.tensor([2, 3]))
    with torch.no_grad():
        own = net(x, net.encode_style(x))
        torch.testing.assert_close(stylize_features(net, ctx, x, code, "predict", strength=0.0), own)
        torch.testing.assert_close(stylize_features(net, ctx, x, code, "predict", strength=1.0), net(x, code))
        half = net.encode_style(x) + 0.5 * (code - net.encode_style(x))
        torch.testing.assert_close(stylize_features(net, ctx, x, code, "predict", strength=0.5), net(x, half))
    with pytest.raises(ValueError, match="strength"):
        stylize_features(net, ctx, x, code, strength=1.5)


def test_tensorboard_video_logged(style_ckpt):
    events = list(style_ckpt.parent.parent.glob("events.out.tfevents.*"))
    assert events
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(events[0]))
    acc.Reload()
    assert "samples/stylize" in acc.Tags()["images"]
    img = acc.Images("samples/stylize")[0]
    assert (img.width, img.height) == (3 * 128, 3 * 128)  # rows of content | style | output
    assert {"val/adversarial", "val/discriminator", "val/foot", "val/loss"} <= set(acc.Tags()["scalars"])


def test_predicted_root_option(cache, tmp_path):
    ckpt = fit_style(tmp_path, cache, steps=1, extra=["--model.init_args.root", "predict",
                                                      "--trainer.limit_val_batches", "0"])
    assert torch.load(ckpt, weights_only=True)["motion3d"]["hparams"]["root"] == "predict"


def test_foot_slide_loss_on_content_and_own_contacts(style_ckpt, bandai_dir):
    """The own-contact weights are the foot-skate metric's contact frames: on a real walk the loss
    with them is the mean foot speed over those frames; they carry no gradient; with every frame
    a contact the loss is the plain mean foot speed, whatever the own contacts."""
    from motion3d.io import bvh
    from motion3d.metrics.motion import CONTACT_HEIGHT, foot_skate
    from motion3d.tasks.losses import foot_slide_loss
    from motion3d.tasks.stylize_clips import Stylizer

    st = Stylizer.load(style_ckpt)
    ctx = st.ctx
    x = st.features(bvh.load(bandai_dir / "data" / "dataset-1_walk_normal_001.bvh"))[None, :90]
    feet = ctx.decode_positions(x)[..., ctx.feet, :] / float(ctx.skeleton.height())
    speed = (feet[:, 1:] - feet[:, :-1]).norm(dim=-1) * ctx.fps  # (1, T-1, F)
    y = feet[..., 1]
    floor = torch.quantile(y.amin(-1), 0.05, dim=-1)
    low = (y - floor) < CONTACT_HEIGHT
    own = (low[:, 1:] & low[:, :-1]).float()
    assert 0.1 < own.mean() < 0.9  # a walk: each foot planted part of the time
    loss = foot_slide_loss(ctx, x, None, CONTACT_HEIGHT)
    torch.testing.assert_close(loss, (own * speed).mean(), rtol=1e-4, atol=1e-7)
    # the metric's horizontal skate on the same frames is of the same order
    skate = foot_skate(ctx.decode_positions(x), ctx.feet, 1.0 * ctx.skeleton.height(), ctx.fps)
    assert 0.0 < float(skate) < 10 * float(loss / own.mean())
    ones = torch.ones(1, x.shape[1], len(ctx.feet))
    torch.testing.assert_close(foot_slide_loss(ctx, x, ones, CONTACT_HEIGHT), speed.mean(), rtol=1e-4, atol=1e-7)
    assert foot_slide_loss(ctx, x, torch.zeros_like(ones)) == 0
    xg = x.clone().requires_grad_(True)
    foot_slide_loss(ctx, xg, None, CONTACT_HEIGHT).backward()
    assert torch.isfinite(xg.grad).all() and xg.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="foot_contacts"):
        from motion3d.tasks.stylize import StyleTransferTask
        StyleTransferTask(net=st.net, foot_contacts="feet")


@pytest.mark.slow
def test_evaluate_prints_identity_and_model_table(style_ckpt, cache, tmp_path_factory, bandai_dir, capsys):
    clf_root = tmp_path_factory.mktemp("classifier")
    _tool("train").main(["fit", "-c", str(REPO_ROOT / "configs" / "motion" / "classifier.yaml"), "--threads", "1",
                         "--trainer.max_steps", "2", "--trainer.default_root_dir", str(clf_root),
                         "--trainer.limit_val_batches", "1", "--trainer.enable_progress_bar", "false",
                         "--data.init_args.include", SUBSET, "--data.init_args.batch_size", "8",
                         "--data.init_args.cache_dir", str(cache)])
    clf = sorted(clf_root.rglob("last.ckpt"))[-1]
    folder = tmp_path_factory.mktemp("eval_clips")
    for style in ("angry", "happy", "old"):
        for ext in ("bvh", "json"):
            name = f"dataset-1_walk_{style}_001.{ext}"
            shutil.copy(bandai_dir / "data" / name, folder / name)
    copy_writable(bandai_dir / "cfg", folder / "cfg")
    result = _tool("evaluate").main(["--ckpt", str(style_ckpt), "--classifier", str(clf), "--data", str(folder)])
    out = capsys.readouterr().out
    assert "identity (content)" in out and "model" in out and "per target style" in out
    assert result["clips"] == 3 and set(result["per_style"]) == {"angry", "happy", "old"}
    assert result["overall"]["model"]["n"] == 6  # each clip to the two other styles
    assert result["overall"]["identity"]["skate_ratio"] == pytest.approx(1.0)
    assert 0.0 <= result["overall"]["model"]["sra"] <= 1.0
