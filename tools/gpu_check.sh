#!/usr/bin/env bash
# Check motion3d on a CUDA machine, in a few minutes:
#   1. the gpu-marked tests (tests/test_cuda.py: CPU/GPU parity of FK, point ops and models,
#      motion networks, the differentiable renderer, bf16 autocast of the fused point layers);
#   2. every config trained for two short epochs with --trainer.accelerator gpu and
#      --trainer.precision bf16-mixed (validation, TensorBoard videos, checkpoints included), one run
#      resumed from its checkpoint;
#   3. the tools on those GPU checkpoints with --device cuda: evaluate.py, sample.py, stylize.py,
#      and retarget.py --method learned.
# Usage: bash tools/gpu_check.sh [OUT_DIR]   (data from MOTION3D_DATA, as everywhere)
#        ONLY='point|tests' bash tools/gpu_check.sh   reruns the steps whose names match
# Prints one PASS/FAIL line per step and exits non-zero if any failed; logs under OUT_DIR/logs.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${1:-outputs/gpu_check}
BATCHES=${BATCHES:-12}
ACCEL=${ACCEL:-gpu}; PRECISION=${PRECISION:-bf16-mixed}; DEVICE=${DEVICE:-cuda}  # ACCEL=cpu DEVICE=cpu: dry run
mkdir -p "$OUT/logs" "$OUT/runs"
failed=()

step() {  # step NAME CMD...: run, log, report (only names matching the regex ONLY, when set)
    local name=$1; shift
    [[ -n "${ONLY:-}" && ! "$name" =~ $ONLY ]] && return 0
    local t0=$SECONDS
    if "$@" >"$OUT/logs/$name.log" 2>&1; then
        echo "PASS $name ($((SECONDS - t0)) s)"
    else
        echo "FAIL $name ($((SECONDS - t0)) s): last lines of $OUT/logs/$name.log"
        tail -n 25 "$OUT/logs/$name.log" | sed 's/^/    /'
        failed+=("$name")
    fi
}

ckpt() {  # the newest checkpoint under a run folder
    find "$OUT/runs/$1" -name 'last.ckpt' 2>/dev/null | sort | tail -n 1
}

train() {  # train NAME CONFIG [extra args]
    local name=$1 cfg=$2; shift 2
    step "train_$name" "$PY" tools/train.py fit -c "$cfg" --trainer.accelerator "$ACCEL" --trainer.devices 1 \
        --trainer.precision "$PRECISION" --trainer.max_epochs 2 --trainer.limit_train_batches "$BATCHES" \
        --trainer.limit_val_batches 3 --trainer.default_root_dir "$OUT/runs/$name" "$@"
}

if [ "$DEVICE" = cuda ]; then
    "$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.__version__, torch.cuda.get_device_name())" || exit 2
fi
step tests "$PY" -m pytest -q -p no:cacheprovider -m gpu tests/test_cuda.py

train classifier configs/motion/classifier.yaml
train gru configs/motion/gru_predict.yaml
train transformer configs/motion/transformer_predict.yaml
train vae configs/motion/vae_generate.yaml
train style configs/style/bandai_style.yaml
train retarget configs/retarget/bandai_cmu.yaml
train pointnet configs/points/pointnet_modelnet10.yaml
train pointnet2 configs/points/pointnet2_ssg_modelnet10.yaml
train dgcnn configs/points/dgcnn_modelnet10.yaml

VAE=$(ckpt vae); CLF=$(ckpt classifier); STYLE=$(ckpt style); RET=$(ckpt retarget)
train vae_resumed configs/motion/vae_generate.yaml --ckpt_path "$VAE" --trainer.max_epochs 3   # one more epoch
step evaluate_gru "$PY" tools/evaluate.py --ckpt "$(ckpt gru)" --split val --device "$DEVICE" --limit 64
step evaluate_vae "$PY" tools/evaluate.py --ckpt "$VAE" --classifier "$CLF" --split val --device "$DEVICE" --runs 1
step evaluate_style "$PY" tools/evaluate.py --ckpt "$STYLE" --classifier "$CLF" --split val --device "$DEVICE" --limit 24
step evaluate_pointnet "$PY" tools/evaluate.py --ckpt "$(ckpt pointnet)" --device "$DEVICE"
step sample_vae "$PY" tools/sample.py --ckpt "$VAE" --n 4 --device "$DEVICE" --no-video -o "$OUT/samples"
DATA=${MOTION3D_DATA:-../shared/data}
CONTENT=$(find "$DATA/mocap/bandai-namco-2" -name '*walk*normal*.bvh' | sort | head -n 1)
CMU=$DATA/mocap/cmu/131_01.bvh   # the CMU domain of configs/retarget/bandai_cmu.yaml
step stylize "$PY" tools/stylize.py "$CONTENT" --style-label angry --ckpt "$STYLE" --device "$DEVICE" -o "$OUT/stylized.bvh"
step retarget_learned "$PY" tools/retarget.py "$CONTENT" --target "$CMU" --method learned --ckpt "$RET" \
    -o "$OUT/retargeted.bvh" --frames 0:120

if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all GPU checks passed"
