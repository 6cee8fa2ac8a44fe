"""Wall time of the serving capacity search (``planner plan`` on a spec with
``inference.traffic``); not a timed test (tests/test_serving_capacity.py
checks the CPU time of the first case).

Run: python benchmarks/serving_search.py
Issue 11: under 1 s for 8 GPU types and up to 1,000 GPUs.
"""

from __future__ import annotations

import time

from planner.estimate.params import count_parameters
from planner.plan.capacity import make_capacity_plan
from planner.spec import load_spec_text

GPUS = "[h100-sxm, h200, a100-80gb, a100-40gb, mi300x, l40s, b200, h800]"
CASES = {
    "llama-3.1-70b at 200 req/s, 8 GPU types, <= 1,000 GPUs": f"""
name: bench-serve-70b
model: llama-3.1-70b
inference:
  prompt_tokens: {{mean: 1024, p99: 4096}}
  generated_tokens: 256
  traffic: {{requests_per_second: 200}}
  slo: {{ttft_ms: 2000, tpot_ms: 50}}
  engine: vllm
cluster: {{gpu: {GPUS}, max_gpus: 1000}}
""",
    "llama-3.1-405b at max on 64 H100/H200 (pipeline stages)": """
name: bench-serve-405b
model: llama-3.1-405b
inference:
  prompt_tokens: 2048
  generated_tokens: 512
  traffic: {requests_per_second: max}
  slo: {ttft_ms: 5000, tpot_ms: 100}
  engine: vllm
cluster: {gpu: [h100-sxm, h200], max_gpus: 64}
""",
}


def main() -> None:
    for name, text in CASES.items():
        spec = load_spec_text(text)
        counts = count_parameters(spec.model)
        start = time.perf_counter()
        plan = make_capacity_plan(spec, counts)
        took = time.perf_counter() - start
        b = plan.best
        what = "none meets" if b is None else f"{b.gpus} GPUs of {b.replica.cluster.gpu.key}"
        print(f"{name}: {took * 1e3:,.0f} ms, {len(plan.candidates)} candidates, {what}")


if __name__ == "__main__":
    main()
