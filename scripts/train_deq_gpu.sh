#!/usr/bin/env bash
# Continue the training of the twelve shipped DEQ-MD models at the equilibrium, side by side on one
# GPU within a wall-time budget, then validate old and new weights on held-out CBSD432 crops.
#
#   scripts/train_deq_gpu.sh DIR TRAIN_SECONDS [DEVICE]
#
# Each model of the list `models` below resumes from its shipped weights with
# `train_deq --solver lbfgs` (training fixed points to 1e-4), crops 64x64, batch 32, a cosine
# learning rate over the run. The length of each run (--steps, which sets its cosine) comes
# from a probe: the runs first train a few steps side by side, and each one's seconds per step,
# measured with the others beside it, set its --steps so that it fills TRAIN_SECONDS. Then
# `scripts/validate_deq.py` compares the shipped and the new weights of each model on 4 held-out
# CBSD432 crops 256x256 (the train_deq validation uses 8 crops 128x128).
#
# Writes DIR/probe/ (thrown-away timing runs), DIR/runs/gpu_<model>/ (the resumable runs),
# DIR/runs/gpu_<model>.steps (the run's --steps and --validate-every), DIR/runs/gpu_<model>.pt and
# .json (the exported best weights and their provenance), DIR/runs/*.log and
# DIR/runs/heldout_*.txt. Resumable: rerun with the same DIR, a run with a .steps file is not
# probed again and continues from its last checkpoint to its --steps, with TRAIN_SECONDS more
# (resume before shipping: --init names the shipped file). MODELS="red_all_a40 ..." trains only
# those. TOTAL_SECONDS (default: TRAIN_SECONDS) sets the runs' length instead: a run longer than one
# call (a GPU lease, say) then takes several calls of TRAIN_SECONDS with the same DIR, carried
# from one call to the next. SYMMETRY=flip|d4 trains and validates the potential averaged over that
# group of image symmetries (`train_deq --symmetry`); the held-out validation then prints each
# model with none and with that group. GRADIENT=implicit [CG_DAMPING=mu] trains with the gradient by
# implicit differentiation (`train_deq --gradient implicit --cg-damping mu`; default: JFB, the
# paper's). Environment overrides for a dry run on a CPU: BATCH, PATCH, VAL_IMAGES, VAL_SIZE,
# HELD_IMAGES, HELD_SIZE, PROBE_STEPS, and iteration caps VAL_MAX_ITER and HELD_MAX_ITER (default:
# none, every validation fixed point to its tolerance).
set -u
dir=${1:?usage: train_deq_gpu.sh DIR TRAIN_SECONDS [DEVICE]}
budget=${2:?usage: train_deq_gpu.sh DIR TRAIN_SECONDS [DEVICE]}
device=${3:-cuda}
total=${TOTAL_SECONDS:-$budget}
batch=${BATCH:-32}
patch=${PATCH:-64}
val_images=${VAL_IMAGES:-8}
val_size=${VAL_SIZE:-128}
held_images=${HELD_IMAGES:-4}
held_size=${HELD_SIZE:-256}
probe_steps=${PROBE_STEPS:-4}
# the probe's seconds per step leave its first (start-up) step out: it needs two
[ "$probe_steps" -ge 2 ] 2>/dev/null || { echo "PROBE_STEPS must be at least 2, got $probe_steps"; exit 2; }
symmetry=${SYMMETRY:-none}
gradient=${GRADIENT:-jfb}
gradient_options="--gradient $gradient${CG_DAMPING:+ --cg-damping $CG_DAMPING}"
held_symmetry=none
[ "$symmetry" = none ] || held_symmetry="none $symmetry"
val_cap=${VAL_MAX_ITER:+--validation-max-iter $VAL_MAX_ITER}
held_cap=${HELD_MAX_ITER:+--max-iter $HELD_MAX_ITER}
weights=benchmark/networks/weights
mkdir -p "$dir/probe" "$dir/runs"

# model, alpha, kernels, first and last learning rate of the cosine
models="red_motion_a100 100 motion 1e-4 3e-6
red_motion_a60 60 motion 1e-4 3e-6
red_motion_a40 40 motion 1e-4 3e-6
red_gaussian_a100 100 gaussian 1e-4 3e-6
red_gaussian_a60 60 gaussian 1e-4 3e-6
red_gaussian_a40 40 gaussian 1e-4 3e-6
red_uniform_a100 100 uniform 1e-4 3e-6
red_uniform_a60 60 uniform 1e-4 3e-6
red_uniform_a40 40 uniform 1e-4 3e-6
red_all_a100 100 gaussian,uniform,motion 1.5e-4 5e-6
red_all_a60 60 gaussian,uniform,motion 2e-4 5e-6
red_all_a40 40 gaussian,uniform,motion 2e-4 5e-6"
if [ -n "${MODELS:-}" ]; then
    models=$(grep -wF "$(tr ' ' '\n' <<<"$MODELS")" <<<"$models")
    [ -n "$models" ] || { echo "MODELS=$MODELS names none of the shipped models"; exit 2; }
fi

train() {  # model alpha kernels lr lr_min steps validate_every run_dir output [extra options]
    local model=$1 alpha=$2 kernels=$3 lr=$4 lr_min=$5 steps=$6 every=$7 run=$8 output=$9
    shift 9
    python3 -m benchmark.training.train_deq --alpha "$alpha" --kernels ${kernels//,/ } \
        --solver lbfgs --device "$device" --steps "$steps" --batch "$batch" --patch "$patch" \
        --lr "$lr" --lr-min "$lr_min" --train-tol 1e-4 --validate-every "$every" \
        --symmetry "$symmetry" $gradient_options --init "$weights/$model.pt" --run-dir "$run" \
        --output "$output" "$@"
}

echo "probe: $probe_steps steps of each new run, side by side"
while read -r model alpha kernels lr lr_min; do
    [ -f "$dir/runs/gpu_$model.steps" ] && continue
    rm -rf "$dir/probe/$model"
    train "$model" "$alpha" "$kernels" "$lr" "$lr_min" "$probe_steps" 1000 \
        "$dir/probe/$model" "$dir/probe/$model.pt" --validation-images 1 --validation-size 64 \
        --validation-max-iter 3 >"$dir/probe/$model.log" 2>&1 &
done <<<"$models"
wait

# seconds per step after the first (start-up) step: (elapsed at the last - at the first) / steps
seconds_per_step() {
    python3 - "$1" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(round((float(rows[-1]["elapsed_s"]) - float(rows[0]["elapsed_s"])) / (len(rows) - 1), 3))
EOF
}

while read -r model alpha kernels lr lr_min; do
    if [ ! -f "$dir/runs/gpu_$model.steps" ]; then
        if ! per_step=$(seconds_per_step "$dir/probe/$model/metrics.csv"); then
            echo "probe of $model failed:"; tail -5 "$dir/probe/$model.log"; continue
        fi
        # 30% of the time to validations, the final export and the slower steps of a trained
        # model (its fixed points take more evaluations): with 20%, all four runs on an H200
        # stopped at 73-97% of their steps (results/protocol.md, "Trained further on a GPU")
        steps=$(python3 -c "print(max(10, int(0.7 * $total / $per_step)))")
        every=$(python3 -c "print(max(5, 5 * round($steps / 30)))")
        echo "$steps $every" >"$dir/runs/gpu_$model.steps"
        echo "$model: $per_step s per step side by side -> --steps $steps, validated every $every"
    else
        read -r steps every <"$dir/runs/gpu_$model.steps"
        echo "$model: resumed to --steps $steps, validated every $every"
    fi
    train "$model" "$alpha" "$kernels" "$lr" "$lr_min" "$steps" "$every" \
        "$dir/runs/gpu_$model" "$dir/runs/gpu_$model.pt" --validation-images "$val_images" \
        --validation-size "$val_size" $val_cap --max-minutes "$(python3 -c "print($budget / 60)")" \
        >>"$dir/runs/gpu_$model.log" 2>&1 &
done <<<"$models"
wait
for model in $(cut -d' ' -f1 <<<"$models"); do tail -1 "$dir/runs/gpu_$model.log"; done

echo "held-out validation: $held_images CBSD432 crops ${held_size}x$held_size, shipped then new"
while read -r model alpha kernels lr lr_min; do
    [ -f "$dir/runs/gpu_$model.pt" ] || continue
    python3 scripts/validate_deq.py --alpha "$alpha" --kernels ${kernels//,/ } \
        --images "$held_images" --size "$held_size" --device "$device" $held_cap \
        --symmetry $held_symmetry \
        --weights "$weights/$model.pt" "$dir/runs/gpu_$model.pt" \
        >"$dir/runs/heldout_$model.txt" 2>&1 &
done <<<"$models"
wait
for model in $(cut -d' ' -f1 <<<"$models"); do
    echo "== $model"; cat "$dir/runs/heldout_$model.txt" 2>/dev/null
done
