"""Model families (planner/families): the registry, the rule that nothing
outside the family modules compares family names, each family's defaults
and required fields against the Hugging Face configuration classes, the MoE
family's MLP by hand, and the Hugging Face config import's dispatch.

Defaults are those of transformers' configuration classes:
GPT2Config (configuration_gpt2.py: activation_function="gelu_new",
n_inner=None meaning 4 x n_embd, tie_word_embeddings=True, LayerNorm with
bias, learned wpe, biases on c_attn/c_proj/c_fc) and LlamaConfig
(configuration_llama.py: hidden_act="silu", attention_bias=False,
mlp_bias=False, tie_word_embeddings=False, RMSNorm, rotary).
"""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path
from typing import Any, get_args

import pytest

from planner.architecture import Architecture, Family, ParamTensor
from planner.errors import SpecError
from planner.estimate.activations import ActivationInputs, activations
from planner.estimate.params import count_parameters
from planner.families import FAMILIES, get_family
from planner.families.llama import LlamaFamily
from planner.spec.hf_config import fields_from_hf_config
from planner.spec.loader import load_spec_text

PLANNER = Path(__file__).resolve().parent.parent / "planner"


def _arch(model_yaml: str) -> Architecture:
    text = f"""
name: t
model: {model_yaml}
training: {{sequence_length: 512, tokens: 1e9}}
cluster: {{gpu: h100}}
"""
    return load_spec_text(text, "t.yaml").model


def test_registry_matches_the_spec_literal() -> None:
    assert tuple(FAMILIES) == get_args(Family)
    for name, fam in FAMILIES.items():
        assert fam.name == name and fam.summary


def test_unknown_family_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known: llama, gpt, moe"):
        get_family("rwkv")


def _family_name_checks(path: Path) -> list[str]:
    """Comparisons with a family name (``a.family == "gpt"``, ``family in
    ("llama", "moe")``) and dicts keyed by family names."""
    names = set(FAMILIES)
    hits = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        consts: list[ast.expr] = []
        if isinstance(node, ast.Compare):
            for c in node.comparators:
                consts += c.elts if isinstance(c, (ast.Tuple, ast.List, ast.Set)) else [c]
        elif isinstance(node, ast.Dict):
            consts = [k for k in node.keys if k is not None]
        if any(isinstance(c, ast.Constant) and c.value in names for c in consts):
            hits.append(f"{path}:{node.lineno}")
    return hits


def test_no_family_name_checks_outside_the_family_modules() -> None:
    """STYLE.md: everything outside the family modules asks the family,
    never ``if arch == "moe"``."""
    files = [p for p in PLANNER.rglob("*.py") if "families" not in p.parts]
    hits = [h for p in files for h in _family_name_checks(p)]
    assert hits == []


def test_the_guard_catches_a_name_check(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('def f(a):\n    return a.family in ("llama", "moe") or a.family == "gpt"\n')
    assert _family_name_checks(bad) == [f"{bad}:2", f"{bad}:2"]


SHAPE = "hidden_size: 256, num_layers: 3, num_attention_heads: 4, vocab_size: 1000"


def test_gpt_defaults_are_gpt2config_defaults() -> None:
    a = _arch(f"{{architecture: gpt, {SHAPE}}}")
    assert (a.norm, a.position, a.hidden_act) == ("layernorm", "learned", "gelu_new")
    assert a.intermediate_size == 4 * 256  # n_inner=None -> 4 x n_embd
    assert a.tie_word_embeddings and a.attention_bias and a.attention_out_bias and a.mlp_bias
    names = {t.name for t in count_parameters(a).tensors}
    assert {"attn.c_attn", "attn.c_attn_bias", "embed_positions", "mlp.fc_in"} <= names
    assert "attn.q_proj" not in names and "lm_head" not in names


def test_llama_defaults_are_llamaconfig_defaults() -> None:
    a = _arch(f"{{architecture: llama, intermediate_size: 700, {SHAPE}}}")
    assert (a.norm, a.position, a.hidden_act) == ("rmsnorm", "rope", "silu")
    assert not (a.tie_word_embeddings or a.attention_bias or a.mlp_bias)
    names = {t.name for t in count_parameters(a).tensors}
    assert {"attn.q_proj", "attn.k_proj", "attn.v_proj", "mlp.gate_proj", "lm_head"} <= names


@pytest.mark.parametrize(
    ("family", "missing"),
    [
        ("gpt", set()),
        ("llama", {"intermediate_size"}),
        ("moe", {"intermediate_size", "num_local_experts", "num_experts_per_tok"}),
    ],
)
def test_required_fields_per_family(family: str, missing: set[str]) -> None:
    if not missing:
        _arch(f"{{architecture: {family}, {SHAPE}}}")
        return
    with pytest.raises(SpecError) as err:
        _arch(f"{{architecture: {family}, {SHAPE}}}")
    assert {p.path for p in err.value.problems} == {f"model.{k}" for k in missing}


def _inputs(a: Architecture, impl: str) -> ActivationInputs:
    return ActivationInputs(a, 32, 2, 2, "eager", 0.1, "none", impl, precision="bf16-mixed")


def test_moe_with_one_expert_is_the_llama_block() -> None:
    """MixtralConfig with num_local_experts=1 is a dense llama MLP: same
    tensors (no router), same saved tensors in both profiles."""
    llama = _arch(f"{{architecture: llama, intermediate_size: 700, {SHAPE}}}")
    moe = replace(llama, family="moe", num_local_experts=1, num_experts_per_tok=1)
    assert count_parameters(moe) == count_parameters(llama)
    assert (moe.experts, moe.active_experts, moe.is_moe) == (1, 1, False)
    for impl in ("megatron", "hf-transformers"):
        assert activations(_inputs(moe, impl)) == activations(_inputs(llama, impl))


def test_moe_megatron_mlp_by_hand() -> None:
    """s=32, b=2 (sb=64), h=256, i=700, E=4, k=2, 16-bit: router input 2sbh,
    fp32 router probabilities 4sbE, permuted tokens and expert outputs
    2ksbh each, SwiGLU gate and up 2 x 2ksbi, down input 2ksbi (the
    Korthikanti s4.1 terms over k x sb tokens)."""
    a = _arch(
        "{architecture: moe, intermediate_size: 700, num_local_experts: 4,"
        f" num_experts_per_tok: 2, {SHAPE}}}"
    )
    mlp = {t.name: t.bytes for t in get_family("moe").megatron_mlp(_inputs(a, "megatron"))}
    sb, h, i, E, k = 64, 256, 700, 4, 2
    assert mlp == {
        "router.input": 2 * sb * h,
        "router.probs": 4 * sb * E,
        "experts.input": 2 * k * sb * h,
        "experts.output": 2 * k * sb * h,
        "swiglu.input": 2 * 2 * k * sb * i,
        "fc2.input": 2 * k * sb * i,
    }
    assert (a.experts, a.active_experts) == (4, 2)


def test_a_registered_family_is_what_every_count_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Swap the llama entry for a family without an MLP (attention only):
    the parameter count and the activation inventory follow the registry."""

    class AttentionOnly(LlamaFamily):
        def mlp_tensors(self, a: Architecture) -> list[ParamTensor]:
            return []

        def megatron_mlp(self, x: ActivationInputs) -> list[Any]:
            return []

    a = _arch(f"{{architecture: llama, intermediate_size: 700, {SHAPE}}}")
    monkeypatch.setitem(FAMILIES, "llama", AttentionOnly())
    h, L, V = 256, 3, 1000
    # embeddings + untied head + per layer (q, k, v, o: 4h^2; two RMSNorms: 2h) + final norm
    assert count_parameters(a).total == 2 * V * h + L * (4 * h * h + 2 * h) + h
    names = {t.name for t in activations(_inputs(a, "megatron")).per_layer}
    assert "mlp_norm.input" in names and "fc2.input" not in names


def _cfg(model_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "model_type": model_type,
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 160,
        "vocab_size": 128,
        **extra,
    }


def test_hf_import_listed_type_ignores_a_different_family() -> None:
    """A type a family lists strictly is read as that family whatever the
    spec's architecture says (mixtral stays MoE)."""
    out = fields_from_hf_config(_cfg("mixtral", num_local_experts=8, num_experts_per_tok=2))
    assert out["architecture"] == "moe" and out["num_local_experts"] == 8
    again = fields_from_hf_config(
        _cfg("mixtral", num_local_experts=8, num_experts_per_tok=2), "llama"
    )
    assert again == out


def test_hf_import_llama_type_read_as_moe_when_the_spec_says_so() -> None:
    out = fields_from_hf_config(_cfg("qwen2", num_local_experts=4, num_experts_per_tok=1), "moe")
    assert out["architecture"] == "moe"
    assert (out["num_local_experts"], out["num_experts_per_tok"]) == (4, 1)
    assert out["attention_bias"] is True  # qwen2's q/k/v bias default is kept


def test_hf_import_unlisted_type_needs_a_llama_style_family() -> None:
    assert fields_from_hf_config(_cfg("my_llama"), "llama")["architecture"] == "llama"
    for family in (None, "gpt"):
        with pytest.raises(ValueError, match="known: bloom, cohere, deepseek_v2") as err:
            fields_from_hf_config(_cfg("my_llama"), family)
        # the refusal suggests no fallback that would miscount (issue 9)
        assert "architecture: llama" not in str(err.value)
        assert "would miscount" in str(err.value)
