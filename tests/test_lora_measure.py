"""The LoRA activation profile (planner/estimate/lora_profile.py) against
``planner measure`` traces of a PEFT-wrapped Hugging Face llama under fake
tensors (planner/measure/peftmodel.py): byte for byte, per layer and in
total, on tiny configs. QLoRA is traced with a 16-bit base (bitsandbytes'
4-bit kernels need CUDA; ``MatMul4Bit`` saves only the packed weight, as a
frozen nn.Linear saves only its weight), so its profile is the LoRA one."""

from __future__ import annotations

from dataclasses import replace
from itertools import product

import pytest

from planner.measure.case import MeasureCase
from planner.measure.matrix import LLAMA_ODD
from planner.spec.schema import FinetuningSection

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

# Three layers, so that cos/sin (saved once layer 1 needs q/k gradients) is
# shared by several layers in the trace, as the profile counts it.
ARCH = replace(LLAMA_ODD, name="tiny-llama-lora", num_layers=3)
TARGETS = (
    ("q_proj", "v_proj"),
    "all-linear",
    ("gate_proj", "down_proj"),
    ("o_proj",),
    ("k_proj", "up_proj"),
    ("down_proj",),
)


def _cases() -> list[MeasureCase]:
    out = []
    for prec, drop, targets, rc in product(
        ("bf16", "bf16-autocast", "fp16-mixed"), (0.0, 0.1), TARGETS, ("none", "full")
    ):
        if rc == "full" and targets not in ("all-linear",):
            continue  # the checkpoint keeps each layer's input whatever is adapted
        ft = FinetuningSection(
            method="lora",
            rank=4,
            dropout=drop,
            target_modules=targets if isinstance(targets, str) else list(targets),
            base_precision="fp16" if prec == "fp16-mixed" else "bf16",
        )
        out.append(MeasureCase(ARCH, 17, 3, prec, "flash", 0.0, rc, ft))
    for extra in (["lm_head"], ["embed_tokens"]):
        ft = FinetuningSection(method="qlora", rank=8, target_modules=["o_proj"],
                               trainable_extra=extra)  # fmt: skip
        out.append(MeasureCase(ARCH, 17, 2, "bf16-mixed", "flash", 0.0, "none", ft))
    return out


def _id(c: MeasureCase) -> str:
    ft = c.finetuning
    assert ft is not None
    t = ft.target_modules if isinstance(ft.target_modules, str) else "+".join(ft.target_modules)
    return f"{c.label} {t} {'+'.join(ft.trainable_extra)}".strip()


@pytest.mark.parametrize("case", _cases(), ids=_id)
def test_measured_lora_activations_equal_the_profile(case: MeasureCase) -> None:
    from planner.measure import measure

    c = measure(case)
    est = c.estimate_cpu
    layers = c.trace.layer_bytes()
    assert layers[0] == est.first_layer_bytes, c.to_dict()
    assert set(layers[1:]) == {est.per_layer_bytes}, c.to_dict()
    assert c.trace.total == est.total, c.to_dict()


def test_layer_zero_saves_less_and_adapters_are_counted() -> None:
    """The profile's own structure: layer 0's input needs no gradient (the
    embedding is frozen), so its RMSNorm saves nothing; each adapted module
    keeps lora_B's r-wide input."""
    from planner.measure.compare import analytic

    ft = FinetuningSection(method="lora", rank=4, target_modules=["q_proj", "v_proj"])
    est = analytic(MeasureCase(ARCH, 17, 3, "bf16", "flash", 0.0, "none", ft), "hf-transformers")
    sb, h = 17 * 3, ARCH.hidden_size
    norm = 4 * sb * h + 4 * sb  # fp32 input and rsqrt of input_layernorm
    assert est.per_layer_bytes - est.first_layer_bytes == norm
    names = [s.name for s in est.per_layer]
    assert names.count("q_proj.lora_B.input") == 1 and "v_proj.lora_B.input" in names
    assert "k_proj.lora_B.input" not in names
