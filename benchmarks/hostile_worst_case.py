"""Run the worst hostile inputs found (issue 13) and print each one's wall
time, peak RSS and exit status. Not a timed test: the target is that no
input makes any command run longer than ~10 s or use more than 1 GB.

Run: python benchmarks/hostile_worst_case.py [COMMAND ...]
(default: validate plan report measure; "measure" runs MEASURE_CASES only, the
others every case). `planner measure --step` that fits is exempt: it runs the
real training steps asked for, refused only when free memory cannot hold them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE = "name: h\nmodel: llama-2-7b\ntraining: {sequence_length: 4096, tokens: 1e9}\n"
CASES: dict[str, str] = {
    "usable memory 0 (cuda_context_gib 80)": BASE
    + "cluster: {gpu: a100-80gb}\nassumptions: {cuda_context_gib: 80}\n",
    "memory_gib 1": BASE + "cluster: {gpu: {preset: a100-80gb, memory_gib: 1}}\n",
    "billion laughs (342 bytes)": "".join(
        f"{c}: &{c} [{','.join([f'*{p}'] * 9) if p else ','.join(['lol'] * 9)}]\n"
        for p, c in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
    ),
    "nesting 100,000 deep": "a: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "1 MB of keys": "".join(f"k{i}: {i}\n" for i in range(90_000)),
    "50 MB spec": "",  # written in 1 MB chunks by main(): see BIG
    "global_batch_size 1e9": BASE.replace("tokens: 1e9", "tokens: 1e9, global_batch_size: 1e9")
    + "cluster: {gpu: h100-sxm, max_gpus: 1000000}\n",
    "batch 720720, 1e6 GPUs (past the cap: refused)": "name: h\nmodel: llama-2-7b\n"
    "training: {sequence_length: 4096, tokens: 1e12, global_batch_size: 720720}\n"
    "cluster: {gpu: h100-sxm, max_gpus: 1000000}\n",
    # 97,064 layouts (search_size), the largest found under MAX_LAYOUTS.
    "largest search under the cap (120 layers, batch 5040, 512)": "name: h\n"
    "model: {preset: llama-2-7b, num_layers: 120}\n"
    "training: {sequence_length: 4096, tokens: 1e12, global_batch_size: 5040}\n"
    "cluster: {gpu: h100-sxm, max_gpus: 512}\n",
    "5,040 layers, batch 5,040, 1e6 GPUs, 4 GPU types": "name: h\n"
    "model: {preset: llama-2-7b, num_layers: 5040}\n"
    "training: {sequence_length: 4096, tokens: 1e12, global_batch_size: 5040}\n"
    "cluster: {gpu: [h100-sxm, a100-80gb, a100-40gb, h200], max_gpus: 1000000}\n",
    "1,680 layers, batch 5,040, 1e6 GPUs, 4 GPU types": "name: h\n"
    "model: {preset: llama-2-7b, num_layers: 1680}\n"
    "training: {sequence_length: 4096, tokens: 1e12, global_batch_size: 5040}\n"
    "cluster: {gpu: [h100-sxm, a100-80gb, a100-40gb, h200], max_gpus: 1000000}\n",
    "200 candidate GPUs": BASE + "cluster:\n  gpu: [" + ", ".join(["h100-sxm"] * 200) + "]\n",
    "16 copies of one GPU": BASE.replace("tokens: 1e9", "tokens: 1e9, global_batch_size: 1024")
    + "cluster: {gpu: ["
    + ", ".join(["h100-sxm"] * 16)
    + "], max_gpus: 4096}\n",
    "host RAM 1e300 GiB per node": BASE
    + "cluster: {gpu: a100-80gb, host_memory_per_node: 1e300}\n",
    "widest model the limits allow": "name: h\nmodel: {preset: llama-2-7b, hidden_size: 1048576,"
    " intermediate_size: 1048576, num_attention_heads: 16384, num_key_value_heads: 16384,"
    " vocab_size: 16777216, num_layers: 4096}\n"
    "training: {sequence_length: 16777216, micro_batch_size: 65536,"
    " global_batch_size: 1048576, tokens: 1e16}\n"
    "cluster: {gpu: [h100-sxm, a100-80gb, a100-40gb, h200], max_gpus: 1048576}\n",
}
# `planner measure` (fake-tensor trace; needs the measure extra): the
# deepest model it traces, one past it, and --step refused by the room check.
MEASURE_CASES: dict[str, tuple[str, list[str]]] = {
    "measure: 256 layers (the trace cap)": (
        "name: h\nmodel: {preset: llama-2-7b, num_layers: 256}\n"
        "training: {sequence_length: 4096, tokens: 1e9}\ncluster: {gpu: a100-80gb}\n",
        [],
    ),
    "measure: 4,096 layers (refused)": (
        "name: h\nmodel: {preset: llama-2-7b, num_layers: 4096}\n"
        "training: {sequence_length: 4096, tokens: 1e9}\ncluster: {gpu: a100-80gb}\n",
        [],
    ),
    "measure --step: 4,096 layers (room check)": (
        "name: h\nmodel: {preset: llama-2-7b, num_layers: 4096}\n"
        "training: {sequence_length: 4096, tokens: 1e9}\ncluster: {gpu: a100-80gb}\n",
        ["--step", "--layers", "4096"],
    ),
}
DEVICES = ["/dev/zero", "/dev/urandom"]
# Written in chunks: a child's peak RSS (ru_maxrss) starts from the peak of
# the process it was forked from, so this script keeps its own memory small.
BIG = "50 MB spec"


def run(cmd: list[str], cwd: str) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t0, usage.ru_maxrss / 1024, proc.returncode


def main() -> None:
    commands = sys.argv[1:] or ["validate", "plan", "report", "measure"]
    print(f"{'case':58} {'command':9} {'seconds':>8} {'peak MB':>8} {'exit':>4}")
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for i, (name, text) in enumerate(CASES.items()):
            p = Path(tmp) / f"case{i}.yaml"
            if name == BIG:
                with p.open("w") as f:
                    for _ in range(50):
                        f.write("#" * 1_000_000)
                    f.write("\n")
            else:
                p.write_text(text)
            paths[name] = str(p)
        for dev in DEVICES:
            paths[dev] = dev
        for name, path in paths.items():
            for command in (c for c in commands if c != "measure"):
                extra = ["-o", str(Path(tmp) / "out"), "-f", "md"] if command == "report" else []
                cmd = [sys.executable, "-m", "planner", command, path, *extra]
                secs, mb, rc = run(cmd, tmp)
                print(f"{name[:58]:58} {command:9} {secs:8.2f} {mb:8.0f} {rc:4d}", flush=True)
        if "measure" not in commands:
            return
        for i, (name, (text, args)) in enumerate(MEASURE_CASES.items()):
            p = Path(tmp) / f"measure{i}.yaml"
            p.write_text(text)
            cmd = [sys.executable, "-m", "planner", "measure", str(p), *args]
            secs, mb, rc = run(cmd, tmp)
            print(f"{name[:58]:58} {'measure':9} {secs:8.2f} {mb:8.0f} {rc:4d}", flush=True)


if __name__ == "__main__":
    main()
