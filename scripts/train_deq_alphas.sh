#!/usr/bin/env bash
# Train DEQ-MD at its equilibrium for several noise levels at once: one resumable
# `benchmark.training.train_deq` process per alpha, all on DEVICE, each stopping (and saving) after
# MINUTES; then the held-out check of each run's best weights (scripts/validate_deq.py, with TV-MD).
# One GPU is under-used by one process (results/protocol.md): the processes share it.
#
#   scripts/train_deq_alphas.sh MINUTES DEVICE [ALPHA ...]       (alphas default: 40 60 100)
#
# Run folders training_runs/eq_red_all_a<ALPHA>_<TAG>, logs and exported weights in outputs/ (never
# the shipped weights). Calling it again resumes every run. Environment:
#   TAG    run-folder suffix (default dn2800_tol1e-4)
#   INIT   weights a new run starts from (default training_runs/denoiser/best.pt, the denoiser
#          continued to 2,800 steps)
#   EXTRA  more train_deq arguments, appended (they override the recipe's)
#   PYTHON the interpreter (default python3)
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 MINUTES DEVICE [ALPHA ...]" >&2
    exit 2
fi
minutes=$1
device=$2
shift 2
alphas=${*:-40 60 100}
tag=${TAG:-dn2800_tol1e-4}
init=${INIT:-training_runs/denoiser/best.pt}
python=${PYTHON:-python3}
if [ ! -f "$init" ]; then
    echo "$0: INIT weights $init are missing" >&2
    exit 2
fi
mkdir -p outputs
pids=()
for alpha in $alphas; do
    name=eq_red_all_a${alpha}_${tag}
    # shellcheck disable=SC2086
    $python -m benchmark.training.train_deq --alpha "$alpha" --solver lbfgs --device "$device" \
        --steps 5000 --batch 8 --patch 128 --lr 3e-4 --train-tol 1e-4 \
        --validation-images 8 --validation-size 128 --max-minutes "$minutes" --init "$init" \
        --run-dir "training_runs/$name" --output "outputs/$name.pt" ${EXTRA:-} \
        > "outputs/$name.log" 2>&1 &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
    wait "$pid" || status=1
done
for alpha in $alphas; do
    name=eq_red_all_a${alpha}_${tag}
    tail -n 1 "outputs/$name.log"
    $python scripts/validate_deq.py --alpha "$alpha" --device "$device" --tv-md \
        --weights "training_runs/$name/best.pt"
done
exit $status
