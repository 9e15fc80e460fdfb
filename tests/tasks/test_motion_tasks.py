"""Motion tasks: a few Lightning steps on real Bandai-Namco windows, checkpoints that load with
weights_only and refuse other data, the prediction metrics and baselines."""
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.loggers import TensorBoardLogger

from motion3d.data.mocap import MocapDataModule
from motion3d.features import Normalizer, build
from motion3d.io import bvh
from motion3d.models.motion import MotionClassifier, MotionTransformer, MotionVAE, Seq2SeqGRU
from motion3d.tasks import GenerationTask, PredictionTask, RecognitionTask
from motion3d.tasks.checkpoint import load_checkpoint, load_motion_checkpoint
from motion3d.tasks.context import ContextMismatch, MotionContext
from motion3d.tasks.predict import prediction_errors


@pytest.fixture(scope="module")
def dm(bandai_dir, tmp_path_factory):
    torch.set_num_threads(1)
    dm = MocapDataModule(roots=[str(bandai_dir)], include=["*_walk_*_001.bvh", "*_run_*_001.bvh"], window=24,
                         stride=12, batch_size=6, split=[0.6, 0.2, 0.2],
                         cache_dir=str(tmp_path_factory.mktemp("cache")))
    dm.setup("fit")
    return dm


def fit(task, dm, root: Path, steps: int = 2, ckpt_path=None):
    trainer = L.Trainer(max_steps=steps, limit_train_batches=steps, max_epochs=1, limit_val_batches=1, num_sanity_val_steps=0, accelerator="cpu",
                        logger=TensorBoardLogger(str(root), name="tb"), enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=str(root), enable_checkpointing=False)
    trainer.fit(task, datamodule=dm, ckpt_path=ckpt_path)
    path = root / "model.ckpt"
    trainer.save_checkpoint(path)
    return trainer, path


def _ctx(dm):
    return MotionContext.from_datamodule(dm)


def test_prediction_task_trains_and_checkpoints(dm, tmp_path):
    task = PredictionTask(lambda d, c, s: Seq2SeqGRU(d, c, s, hidden=32), observe=12, horizon=12,
                          video_every_n_epochs=1, video_samples=2, warmup_steps=1)
    trainer, path = fit(task, dm, tmp_path)
    assert trainer.global_step == 2
    metrics = trainer.callback_metrics
    assert torch.isfinite(metrics["train/loss"]) and "val/mpjpe_400ms" in metrics
    assert any(tmp_path.glob("tb/version_0/events.out.tfevents.*"))
    ckpt = torch.load(path, weights_only=True)  # plain types only
    meta = ckpt["motion3d"]
    assert meta["task"] == "predict" and meta["context"]["representation"]["dim"] == dm.representation.dim
    assert meta["data"]["init_args"]["window"] == 24
    net, ctx, _ = load_motion_checkpoint(path, "predict")
    x = next(iter(dm.val_dataloader()))["x"]
    torch.testing.assert_close(net.predict(x[:, :12], 12), task.net.eval().predict(x[:, :12], 12))


def test_transformer_prediction_with_scheduled_sampling(dm, tmp_path):
    task = PredictionTask(lambda d, c, s: MotionTransformer(d, c, s, dim=16, layers=1, heads=2, ff_dim=32,
                                                            max_len=32), observe=12, horizon=12,
                          scheduled_sampling=1.0, video_every_n_epochs=0)
    trainer, _ = fit(task, dm, tmp_path, steps=2)
    assert 0.0 < task.sampling_prob() <= 1.0
    assert torch.isfinite(trainer.callback_metrics["val/loss"])


def test_generation_task_kl_warmup_and_video(dm, tmp_path):
    task = GenerationTask(lambda d, c, s: MotionVAE(d, c, s, latent_dim=8, dim=16, layers=1, heads=2, ff_dim=32),
                          weights={"kl": 0.01}, kl_warmup_steps=4, video_every_n_epochs=1, video_samples=2)
    trainer, path = fit(task, dm, tmp_path)
    assert task.kl_factor() == pytest.approx(0.005)
    assert set(["train/kl", "train/position", "train/contact"]) <= set(trainer.callback_metrics)
    net, ctx, meta = load_motion_checkpoint(path, "generate")
    assert net.num_content == len(dm.label_names["content"]) and ctx.label_names == dm.label_names
    assert net.sample(3, 40, {"content": 0}).shape == (3, 40, dm.representation.dim)


def test_velocity_loss_compares_frame_differences(dm):
    net = MotionVAE(dm.representation.dim, 0, 0, latent_dim=8, dim=16, layers=1, heads=2, ff_dim=32)
    task = GenerationTask(net, weights={"position": 0.0, "contact": 0.0, "velocity": 2.0})
    x = next(iter(dm.train_dataloader()))["x"]
    static = x[:, :1].expand_as(x)  # the first pose held: no motion at all
    out = task.reconstruction_losses(static, x)
    vel = (x[:, 1:] - x[:, :-1]).abs().mean()
    torch.testing.assert_close(out["velocity"], vel)
    torch.testing.assert_close(out["loss"], out["feature"] + 2.0 * vel)
    off = GenerationTask(net, weights={"position": 0.0, "contact": 0.0})  # off by default
    assert "velocity" not in off.reconstruction_losses(static, x)


def test_spectral_loss_ignores_phase_and_penalises_stillness():
    from motion3d.tasks.losses import spectral_loss

    t = torch.arange(60, dtype=torch.float32)
    walk = torch.stack([torch.sin(2 * torch.pi * t / 30), torch.cos(2 * torch.pi * t / 20)], -1)[None]  # (1, 60, 2)
    shifted = torch.roll(walk, 7, dims=1)          # same cycles, other phase (whole periods: circular)
    still = torch.full_like(walk, 0.3)             # a held pose, any offset
    assert spectral_loss(shifted, walk, "mse") < 1e-10
    # Parseval (orthonormal rfft): the missing oscillation's energy, spread over the frequency bins
    assert spectral_loss(still, walk, "mse") > 0.1
    assert torch.nn.functional.mse_loss(still * 0, walk) < torch.nn.functional.mse_loss(shifted, walk)


def test_spectral_weight_adds_the_term(dm):
    net = MotionVAE(dm.representation.dim, 0, 0, latent_dim=8, dim=16, layers=1, heads=2, ff_dim=32)
    task = GenerationTask(net, weights={"position": 0.0, "contact": 0.0, "spectral": 0.5}, loss="mse")
    x = next(iter(dm.train_dataloader()))["x"]
    out = task.reconstruction_losses(x[:, :1].expand_as(x), x)
    assert out["spectral"] > 0
    torch.testing.assert_close(out["loss"], out["feature"] + 0.5 * out["spectral"])


def test_recognition_task(dm, tmp_path):
    task = RecognitionTask(lambda d, c, s: MotionClassifier(d, c, s, hidden=16, layers=2, feature_dim=8))
    trainer, path = fit(task, dm, tmp_path, steps=3)
    assert "val/accuracy_content" in trainer.callback_metrics
    ckpt = load_checkpoint(path)
    assert ckpt["motion3d"]["task"] == "recognize"


def test_checkpoint_refused_on_other_skeleton_or_layout(dm, tmp_path, cmu_dir):
    task = GenerationTask(MotionVAE(dm.representation.dim, len(dm.label_names["content"]),
                                    len(dm.label_names["style"]), latent_dim=4, dim=8, layers=1, heads=2, ff_dim=8))
    _, path = fit(task, dm, tmp_path, steps=1)
    ckpt = torch.load(path, weights_only=True)
    ctx = _ctx(dm)
    # another skeleton (CMU)
    cmu = bvh.load(cmu_dir / "01_01.bvh")
    rep = build("rot6d", cmu.skeleton, fps=30)
    other = MotionContext(rep, Normalizer([0.0] * rep.dim, [1.0] * rep.dim), dm.label_names, 30.0)
    fresh = GenerationTask(lambda d, c, s: MotionVAE(d, c, s, latent_dim=4, dim=8, layers=1, heads=2, ff_dim=8))
    fresh.attach(other)
    with pytest.raises(ContextMismatch, match="skeleton differs"):
        fresh.on_load_checkpoint(ckpt)
    # same skeleton, other feature layout
    rep2 = build("rot6d", dm.skeleton, fps=dm.fps, contact_height=0.1)
    other2 = MotionContext(rep2, ctx.normalizer, dm.label_names, dm.fps)
    fresh2 = GenerationTask(lambda d, c, s: MotionVAE(d, c, s, latent_dim=4, dim=8, layers=1, heads=2, ff_dim=8))
    fresh2.attach(other2)
    with pytest.raises(ContextMismatch, match="feature layout differs"):
        fresh2.on_load_checkpoint(ckpt)
    # a network built for other dims is refused with the dims named
    wrong = GenerationTask(MotionVAE(7, 1, 1, latent_dim=4, dim=8, layers=1, heads=2, ff_dim=8))
    with pytest.raises(ContextMismatch, match="input_dim=7"):
        wrong.attach(ctx)
    # the right data loads
    ok = GenerationTask(lambda d, c, s: MotionVAE(d, c, s, latent_dim=4, dim=8, layers=1, heads=2, ff_dim=8))
    ok.attach(ctx)
    ok.on_load_checkpoint(ckpt)
    ok.load_state_dict(ckpt["state_dict"])


def test_prediction_errors_and_baselines(dm):
    ctx = _ctx(dm)
    x = next(iter(dm.val_dataloader()))["x"]
    perfect = prediction_errors(ctx, x, x[:, 12:24], 12)
    assert perfect["model"]["global"].abs().max() < 1e-3
    assert perfect["model"]["angle"].abs().max() < 1e-3
    # baselines are exact on their first predicted frame only when nothing moves: here they err
    assert perfect["zero_velocity"]["global"][:, -1].mean() > 1.0
    assert (perfect["constant_velocity"]["global"].mean() < perfect["zero_velocity"]["global"].mean())
    # both baselines carry the same pose: equal root-relative errors
    torch.testing.assert_close(perfect["constant_velocity"]["root"], perfect["zero_velocity"]["root"])


def test_foot_slide_weight_adds_the_term(dm):
    from motion3d.tasks.losses import foot_slide_loss

    net = MotionVAE(dm.representation.dim, 0, 0, latent_dim=8, dim=16, layers=1, heads=2, ff_dim=32)
    task = GenerationTask(net, weights={"position": 0.0, "contact": 0.0, "foot_slide": 3.0})
    task.attach(MotionContext.from_datamodule(dm))
    x = next(iter(dm.train_dataloader()))["x"]
    moving = task.reconstruction_losses(x, x)
    expected = foot_slide_loss(task.context, x, task.context.contacts(x))
    assert expected > 0   # the root moves and decoded feet drift a little even while planted
    torch.testing.assert_close(moving["foot_slide"], expected)
    torch.testing.assert_close(moving["loss"], moving["feature"] + 3.0 * expected)
    assert "foot_slide" not in GenerationTask(net, weights={"position": 0.0, "contact": 0.0}).reconstruction_losses(x, x)


def test_same_label_indices_prefers_the_same_cell_then_content_then_style():
    from motion3d.evaluate.generate import same_label_indices

    pool = {"content": torch.tensor([0, 0, 1, 1, 2]), "style": torch.tensor([0, 1, 0, 1, 2])}
    wanted = {"content": torch.tensor([0, 1, 0, 3, 3, -1]), "style": torch.tensor([1, 0, 5, 2, 7, -1])}

    def draw(p, w, count, seed):
        return same_label_indices(p, w, count, 5, torch.Generator().manual_seed(seed))

    drawn = torch.stack([draw(pool, wanted, 6, s) for s in range(30)])
    assert (drawn[:, 0] == 1).all() and (drawn[:, 1] == 2).all()  # the same content and style
    assert set(drawn[:, 2].tolist()) == {0, 1}                    # no style 5: the same content, both drawn
    assert (drawn[:, 3] == 4).all()                               # no content 3: the same style
    assert len(set(drawn[:, 5].tolist())) > 1                     # nothing matches (unknown): any window
    assert ((drawn >= 0) & (drawn < 5)).all()
    assert set(draw({"content": pool["content"]}, {"content": torch.tensor([1, 1])}, 2, 0).tolist()) <= {2, 3}
    unlabelled = torch.stack([draw({}, {}, 3, s) for s in range(10)])  # no labels: any window
    assert unlabelled.shape == (10, 3) and len(set(unlabelled.flatten().tolist())) > 1
    with pytest.raises(ValueError, match="no pool windows"):
        same_label_indices({}, {"content": torch.tensor([0])}, 1, 0, torch.Generator())
