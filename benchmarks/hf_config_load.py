"""Time loading and counting each Hugging Face config.json of tests/data/hf
without torch: read the file, resolve a spec around it
(planner/spec/model.py, the family's ``from_hf_config``) and count every
parameter tensor (planner/estimate/params.py). The goal (issue 9): under
50 ms per config. A benchmark, not a timed test: it prints, it fails only
when torch was imported or a config is over the goal.

Run: python benchmarks/hf_config_load.py [--repeat N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from planner.estimate.inference import kv_cache_per_token
from planner.estimate.params import count_parameters
from planner.spec.loader import load_spec_text

HF_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "hf"
GOAL_SECONDS = 0.050
SPEC = """
name: bench
model: {{hf_config: {file}}}
training: {{sequence_length: 512, tokens: 1e9}}
cluster: {{gpu: h100}}
"""


def load_and_count(file: str) -> tuple[int, int]:
    """(parameters, bf16 KV bytes per token) of one config."""
    a = load_spec_text(SPEC.format(file=file), "bench.yaml", HF_DIR).model
    return count_parameters(a).total, kv_cache_per_token(a, "bf16")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs per config (the best is kept)")
    args = ap.parse_args()
    worst = 0.0
    print(f"{'config':28} {'parameters':>18} {'KV B/token':>11} {'best ms':>8}")
    for path in sorted(HF_DIR.glob("*.json")):
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            total, kv = load_and_count(path.name)
            times.append(time.perf_counter() - t0)
        best = min(times)
        worst = max(worst, best)
        print(f"{path.stem:28} {total:>18,} {kv:>11,} {best * 1e3:>8.2f}")
    torch = "torch" in sys.modules
    goal = GOAL_SECONDS * 1e3
    print(f"\nslowest: {worst * 1e3:.2f} ms (goal < {goal:.0f} ms); torch imported: {torch}")
    return 0 if worst < GOAL_SECONDS and not torch else 1


if __name__ == "__main__":
    sys.exit(main())
