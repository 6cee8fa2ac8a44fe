"""Serving-engine efficiency profiles (inference.engine).

Each profile is a set of ASSUMPTIONS, not measurements: the share of peak
FLOP/s a prefill reaches, the share of peak HBM bandwidth a decode step
streams at, the engine's own memory per GPU, and the scheduler defaults that
shape a step. A spec overrides any figure with ``inference.efficiency``
(docs/spec.md); docs/assumptions.md lists them.

Sources of the scheduler defaults (read the version you deploy):

* vLLM: ``block_size`` 16 tokens (``vllm/config.py`` ``CacheConfig``); the
  OpenAI server's scheduler defaults of ``vllm/engine/arg_utils.py``
  ``EngineArgs.get_batch_defaults`` (V1): a 2,048-token step budget and
  ``max_num_seqs`` 256, raised to 8,192 and 1,024 on GPUs with >= 70 GiB
  that are not A100s (H100, H200, MI300X; PR #17885 keeps A100 low);
  memory profiled as in ``vllm/worker/worker.py``
  ``determine_num_available_blocks`` (Kwon et al. 2023, "Efficient Memory
  Management for Large Language Model Serving with PagedAttention", s4).
* TensorRT-LLM: paged KV blocks of 64 tokens (``tokens_per_block``) and an
  8,192-token step budget (``max_num_tokens``), the ``trtllm-build``
  defaults documented in its build reference.
* SGLang: token-granular KV (``page_size`` 1) and an 8,192-token chunked
  prefill (``chunked_prefill_size``), ``python/sglang/srt/server_args.py``
  (Zheng et al. 2024, "SGLang: Efficient Execution of Structured Language
  Model Programs", RadixAttention).
* The prefill MFU is capped at the GPU type's expected MFU (catalog default
  or ``cluster.mfu``; e.g. MI300X's 0.28, whose best measured matmul reaches
  about half its peak), unless ``inference.efficiency.prefill_mfu`` sets it.
* generic: the planner's own assumptions (``assumptions.
  decode_bandwidth_efficiency``, the cluster's expected MFU), vLLM's
  scheduler defaults.

The efficiency figures are planning priors in the range that model
bandwidth utilisation (MBU, Databricks/MosaicML 2023, "LLM Inference
Performance Engineering: Best Practices") and prefill MFU are usually
quoted in; tests/test_serving_capacity.py compares the result with
published serving measurements at a stated tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from planner.spec.model import ClusterChoice, Spec


@dataclass(frozen=True)
class EngineProfile:
    name: str
    prefill_mfu: float | None  # None: the cluster's expected MFU (generic)
    decode_bandwidth: float | None  # None: assumptions.decode_bandwidth_efficiency
    runtime_gib: float  # engine memory per GPU beyond the CUDA context (CUDA graphs, buffers)
    max_num_batched_tokens: int  # tokens one step may process (chunked prefill budget)
    max_num_seqs: int  # most sequences running at once
    block_size: int  # KV cache block, tokens
    source: str
    large_gpu: tuple[int, int] | None = None  # (tokens, seqs) on >= 70 GiB GPUs but A100


ENGINES: dict[str, EngineProfile] = {
    "vllm": EngineProfile(
        "vllm", 0.50, 0.70, 1.0, 2048, 256, 16,
        "vLLM vllm/config.py CacheConfig, vllm/engine/arg_utils.py, vllm/worker/worker.py;"
        " Kwon et al. 2023 s4", (8192, 1024),
    ),
    "tensorrt-llm": EngineProfile(
        "tensorrt-llm", 0.55, 0.75, 1.0, 8192, 256, 64,
        "TensorRT-LLM trtllm-build defaults (tokens_per_block, max_num_tokens)",
    ),
    "sglang": EngineProfile(
        "sglang", 0.50, 0.70, 1.0, 8192, 256, 1,
        "SGLang python/sglang/srt/server_args.py; Zheng et al. 2024 (RadixAttention)",
    ),
    "generic": EngineProfile(
        "generic", None, None, 0.0, 2048, 256, 16,
        "planner assumptions (docs/assumptions.md) with vLLM's scheduler defaults",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Efficiency:
    """An engine profile resolved for one GPU type (every figure a number)."""

    engine: str
    prefill_mfu: float
    decode_bandwidth: float
    runtime_bytes: int
    max_num_batched_tokens: int
    max_num_seqs: int
    block_size: int
    source: str


def engine_efficiency(spec: Spec, c: ClusterChoice) -> Efficiency:
    """The spec's engine profile with its ``inference.efficiency`` overrides."""
    w = spec.inference
    assert w is not None
    p = ENGINES[w.engine]
    if p.large_gpu and c.gpu.memory_bytes >= 70 * 2**30 and not c.gpu.key.startswith("a100"):
        p = replace(p, max_num_batched_tokens=p.large_gpu[0], max_num_seqs=p.large_gpu[1])
    o = w.efficiency
    overridden = o is not None and o.prefill_mfu is not None
    if o is not None:
        given = {k: v for k, v in o.model_dump().items() if v is not None}
        p = replace(p, **given, source=p.source + "; overridden by inference.efficiency")
    mfu = c.mfu.expected  # generic: the GPU type's expected MFU
    if overridden and p.prefill_mfu is not None:
        mfu = p.prefill_mfu
    elif p.prefill_mfu is not None:  # an engine reaches no more than the GPU type allows
        mfu = min(p.prefill_mfu, c.mfu.expected)
    bw = p.decode_bandwidth
    if bw is None:
        bw = spec.assumptions.decode_bandwidth_efficiency
    return Efficiency(
        engine=p.name,
        prefill_mfu=mfu,
        decode_bandwidth=bw,
        runtime_bytes=round(p.runtime_gib * 2**30),
        max_num_batched_tokens=p.max_num_batched_tokens,
        max_num_seqs=p.max_num_seqs,
        block_size=p.block_size,
        source=p.source,
    )
