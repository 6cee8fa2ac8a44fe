#!/usr/bin/env bash
# One real training step on a GPU: `planner measure --step --device cuda`
# for 7B/8B-class specs truncated to 2 and 4 layers (the command's default
# --layers 2 runs both), plus one case with full recomputation. Run from the
# repository root on a machine with one NVIDIA GPU (written for an H200,
# 141 GB) and torch + transformers installed; planner itself need not be.
# Writes one JSON file per case to $OUT (default ./gpu_step_out); merge them
# into docs/data/gpu_step.json and docs/accuracy.md with:
#   python benchmarks/accuracy.py --gpu-results "$OUT"
# Takes about 2-3 minutes (each case: two model builds, 2 warm-up and 3
# timed steps each); every case is capped at 150 s.
set -euo pipefail
set -x
OUT="${OUT:-$PWD/gpu_step_out}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site:$PYTHONPATH"
fi
nvidia-smi || echo "nvidia-smi not found"
python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__, "cuda", torch.cuda.is_available())'

# The llama-2-7b spec with full recomputation (spec settings otherwise).
RECOMPUTE_SPEC=/tmp/llama-2-7b-finetune-recompute-full.yaml
python3 - "$RECOMPUTE_SPEC" <<'PY'
import sys
import yaml
spec = yaml.safe_load(open("specs/llama-2-7b-finetune.yaml"))
spec["name"] = "llama-2-7b-finetune-recompute-full"
spec["training"]["recompute"] = "full"
yaml.safe_dump(spec, open(sys.argv[1], "w"), sort_keys=False)
PY

run_case() {  # name spec
  local name="$1" spec="$2" rc=0
  timeout 150 python3 -m planner measure "$spec" --step --device cuda --layers 2 \
    --format json > "$OUT/$name.json" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "CASE $name: FAILED (exit $rc)"
    rm -f "$OUT/$name.json"
    return 0
  fi
  python3 - "$OUT/$name.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["runs"]:
    print(f"CASE {d['spec']} {r['layers']} layers on {d['device_name']}: peak"
          f" {r['measured_peak_bytes'] / 2**30:.2f} GiB measured,"
          f" {r['predicted_bytes'] / 2**30:.2f} GiB predicted (x{r['memory_ratio']});"
          f" step {r['measured_step_seconds']:.3f} s measured,"
          f" {r['predicted_step_seconds']:.3f} s predicted (x{r['time_ratio']})")
f = d["full_model"]
print(f"CASE {d['spec']} all {f['layers']} layers (extrapolated): peak"
      f" {f['measured_peak_bytes'] / 2**30:.2f} GiB vs {f['predicted_bytes'] / 2**30:.2f} GiB"
      f" (x{f['memory_ratio']}); step {f['measured_step_seconds']:.3f} s vs"
      f" {f['predicted_step_seconds']:.3f} s (x{f['time_ratio']})")
PY
}

run_case llama-2-7b-finetune specs/llama-2-7b-finetune.yaml
run_case llama-3-8b-deadline-missed specs/llama-3-8b-deadline-missed.yaml
run_case llama-2-7b-finetune-recompute-full "$RECOMPUTE_SPEC"
ls -l "$OUT"
