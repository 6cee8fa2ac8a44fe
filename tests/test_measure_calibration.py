"""The hf-transformers profile against planner measure traces over the
calibration matrix (planner/measure/matrix.py), within the tolerance; and
the megatron profile unchanged (Korthikanti et al. 2022, eq. 1)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from planner.estimate.activations import ActivationInputs, activations
from planner.measure.matrix import GPT, TOLERANCE, matrix

pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.mark.parametrize("case", matrix(), ids=lambda c: c.label)
def test_profile_within_tolerance(case) -> None:
    from planner.measure import measure

    c = measure(case)
    assert abs(c.ratio_cpu - 1) <= TOLERANCE, c.to_dict()
    # Per layer too: the trace's layers are identical and match the profile.
    assert set(c.trace.layer_bytes()) == {c.estimate_cpu.per_layer_bytes}


def test_megatron_gpt_layer_is_korthikanti_eq1() -> None:
    """s*b*h*(34 + 5as/h) bytes, 16-bit, eager attention with dropout (the
    paper's MLP width i = 4h)."""
    gpt = replace(GPT, intermediate_size=4 * GPT.hidden_size)
    s, b, h, a = 24, 2, gpt.hidden_size, gpt.num_attention_heads
    x = ActivationInputs(gpt, s, b, 2, "eager", 0.1, "none", "megatron", precision="bf16-mixed")
    assert activations(x).per_layer_bytes == s * b * h * 34 + 5 * a * s * s * b
