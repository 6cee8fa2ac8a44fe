"""Wall time of the layout search (``planner plan``); not a timed test.

Run: python benchmarks/plan_search.py
The 405B case (Llama-3.1-405B, seq 8192, 15T tokens, global batch 2048
sequences = 16M tokens as in Llama 3, H100, max_gpus 16,384) must finish well
under a second (issue 3).
"""

from __future__ import annotations

import time

from planner.plan import make_plan
from planner.spec import load_spec_text

CASES = {
    "llama-3.1-405b on <= 16,384 H100": """
name: bench-405b
model: llama-3.1-405b
training: {sequence_length: 8192, global_batch_size: 2048, tokens: 15T}
cluster: {gpu: h100-sxm, max_gpus: 16384}
constraints: {max_days: 90}
""",
    "llama-2-70b on <= 2,048 A100": """
name: bench-70b
model: llama-2-70b
training: {sequence_length: 4096, global_batch_size: 1024, tokens: 2T}
cluster: {gpu: a100-80gb, max_gpus: 2048}
""",
    "llama-3-8b on <= 64 GPUs, two GPU types": """
name: bench-8b
model: llama-3-8b
training: {sequence_length: 8192, global_batch_size: 512, tokens: 1T}
cluster: {gpu: [a100-80gb, h100-sxm], max_gpus: 64}
""",
}


def main() -> None:
    for name, text in CASES.items():
        spec = load_spec_text(text, filename=name)
        t0 = time.perf_counter()
        plan = make_plan(spec)
        dt = time.perf_counter() - t0
        lay = plan.layout
        print(
            f"{name}: {dt * 1000:,.0f} ms, {plan.search.evaluated:,} layouts evaluated;"
            f" best {lay.gpus} x {plan.cluster.gpu.key} ({lay.describe()}),"
            f" {plan.expected.days:,.1f} days"
        )


if __name__ == "__main__":
    main()
