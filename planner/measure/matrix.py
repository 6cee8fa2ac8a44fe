"""The calibration matrix: small models whose traces the ``hf-transformers``
profile must match (tests/test_measure_calibration.py) and that
benchmarks/accuracy.py tabulates in docs/accuracy.md. Plain data, no torch."""

from __future__ import annotations

from dataclasses import replace
from itertools import product
from typing import Any

from planner.architecture import Architecture
from planner.families import get_family
from planner.measure.case import MeasureCase

TOLERANCE = 0.02  # |measured / analytic(CPU kernels) - 1| for every case


def tiny(name: str, family: str = "llama", kv: int = 4, experts: int = 1) -> Architecture:
    """A 2-layer model with the family's real modules and its defaults
    (planner/families), small enough to trace (and run for real) in
    milliseconds."""
    fam = get_family(family)
    return Architecture(
        name=name,
        family=family,  # type: ignore[arg-type]
        hidden_size=64,
        num_layers=2,
        num_attention_heads=4,
        num_key_value_heads=kv,
        head_dim=16,
        intermediate_size=160,
        vocab_size=128,
        tie_word_embeddings=fam.default_tie_word_embeddings,
        max_position_embeddings=1024,
        hidden_act=fam.default_hidden_act,
        attention_bias=fam.default_biases,
        attention_out_bias=fam.default_biases,
        mlp_bias=fam.default_biases,
        norm=fam.norm,
        position=fam.position,
        num_local_experts=experts,
        num_experts_per_tok=2 if experts > 1 else 1,
    )


LLAMA = tiny("tiny-llama")
# Other widths, so that no term can match by a coincidence of the tiny shape:
# head_dim 32 != hidden / heads, an MLP width and vocabulary of their own.
LLAMA_ODD = replace(
    tiny("tiny-llama-odd", kv=2),
    hidden_size=96, num_attention_heads=6, head_dim=32, intermediate_size=200, vocab_size=300,
)  # fmt: skip
QWEN3 = replace(LLAMA_ODD, name="tiny-qwen3", qk_norm=True)
LLAMA_GQA = tiny("tiny-llama-gqa", kv=2)
GPT = tiny("tiny-gpt", "gpt")
MIXTRAL = tiny("tiny-mixtral", "moe", kv=2, experts=4)
PRECISIONS = ("fp32", "bf16-mixed", "bf16-autocast")


def matrix() -> list[MeasureCase]:
    cases = []
    shapes = ((2, 24), (1, 40))
    for p, attn, rc, (b, s) in product(PRECISIONS, ("flash", "eager"), ("none", "full"), shapes):
        cases.append(MeasureCase(LLAMA, s, b, p, attn, 0.0, rc))
    for p, attn in product(PRECISIONS, ("flash", "eager")):
        cases.append(MeasureCase(LLAMA_GQA, 24, 2, p, attn, 0.0, "none"))
        cases.append(MeasureCase(GPT, 24, 2, p, attn, 0.1, "none"))
    cases.append(MeasureCase(LLAMA_GQA, 24, 2, "bf16-mixed", "eager", 0.1, "none"))
    cases.append(MeasureCase(GPT, 24, 2, "bf16-mixed", "eager", 0.1, "full"))
    cases.append(MeasureCase(GPT, 32, 3, "fp32", "flash", 0.0, "none"))
    for attn, rc in (("flash", "none"), ("eager", "none"), ("flash", "full")):
        cases.append(MeasureCase(MIXTRAL, 24, 2, "bf16-mixed", attn, 0.0, rc))
    for p, attn in product(PRECISIONS, ("flash", "eager")):
        cases.append(MeasureCase(LLAMA_ODD, 17, 3, p, attn, 0.0, "none"))
        cases.append(MeasureCase(QWEN3, 17, 3, p, attn, 0.0, "none"))
    cases.append(MeasureCase(QWEN3, 17, 3, "bf16-mixed", "flash", 0.0, "full"))
    return cases


def rows(cases: list[MeasureCase] | None = None) -> list[dict[str, Any]]:
    """Trace every case (fake tensors) and compare; needs the extra."""
    from planner.measure import measure

    out = []
    for case in cases if cases is not None else matrix():
        c = measure(case)
        out.append(
            {
                "case": case.label,
                "measured": c.trace.total,
                "analytic_cpu": c.estimate_cpu.total,
                "analytic_cuda": c.estimate.total,
                "error": c.ratio_cpu - 1.0,
                "cuda_ratio": c.ratio,
            }
        )
    return out


def markdown_row(r: dict[str, Any]) -> str:
    return (
        f"| {r['case']} | {r['measured']:,} | {r['analytic_cpu']:,} | {r['error']:+.2%}"
        f" | {r['analytic_cuda']:,} | {r['cuda_ratio']:.3f} |"
    )
