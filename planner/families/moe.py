"""``moe``: the llama block with the MLP replaced by ``num_local_experts``
gated experts and a bias-free router, ``num_experts_per_tok`` active per
token (HF ``MixtralConfig``, models/mixtral/modeling_mixtral.py; Jiang et
al. 2024, "Mixtral of Experts", s2.1). With one expert it is the llama
block. Qwen3-MoE configs read as this block with ``qk_norm``."""

from __future__ import annotations

from typing import Any, ClassVar

from planner.architecture import Architecture, ParamTensor
from planner.estimate.saved import ActivationInputs, Saved
from planner.families.base import dense_mlp_tensors, megatron_mlp_body, need
from planner.families.llama import LlamaFamily, llama_config_kwargs


class MoeFamily(LlamaFamily):
    name = "moe"
    lora_profile = False  # the LoRA profile is derived for the llama block only
    summary = "llama block with top-k routed SwiGLU experts (HF MixtralConfig)"
    required: ClassVar[tuple[str, ...]] = (
        "intermediate_size",
        "num_local_experts",
        "num_experts_per_tok",
    )
    # qwen3_moe: every layer sparse (decoder_sparse_step 1, no mlp_only_layers),
    # experts of moe_intermediate_size, no shared expert (modeling_qwen3_moe.py).
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {
        "mixtral": {},
        "qwen3_moe": {"qk_norm": True},
    }
    hf_types_overridable = False

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        """LlamaConfig's names plus the experts (MixtralConfig
        ``num_local_experts``, Qwen3MoeConfig ``num_experts``). ``strict``
        (a listed MoE type) requires them and refuses dense layers mixed
        with MoE layers; otherwise whatever is missing is left for the spec."""
        out = super().from_hf_config(cfg, defaults, strict)
        experts = cfg.get("num_local_experts", cfg.get("num_experts"))
        if not strict:
            out["num_local_experts"] = experts
            out["num_experts_per_tok"] = cfg.get("num_experts_per_tok")
            return out
        if experts is None:
            raise ValueError("MoE config has no `num_local_experts` / `num_experts`")
        out["num_local_experts"] = experts
        out["num_experts_per_tok"] = need(cfg, "num_experts_per_tok")
        if cfg.get("moe_intermediate_size"):
            out["intermediate_size"] = cfg["moe_intermediate_size"]
        if cfg.get("mlp_only_layers") or cfg.get("decoder_sparse_step", 1) != 1:
            raise ValueError(
                "dense layers mixed with MoE layers (mlp_only_layers / decoder_sparse_step)"
                " are not modelled; give the architecture fields yourself"
            )
        return out

    def experts(self, a: Architecture) -> int:
        return a.num_local_experts

    def active_experts(self, a: Architecture) -> int:
        return a.num_experts_per_tok if a.num_local_experts > 1 else 1

    def mlp_tensors(self, a: Architecture) -> list[ParamTensor]:
        """Every expert's gate/up/down (``expert=True``: a token touches
        top-k of them) and the router ``gate`` (nn.Linear(h, E), no bias)."""
        E, L = self.experts(a), a.num_layers
        if E == 1:
            return super().mlp_tensors(a)
        router = ParamTensor("mlp.router", (E, a.hidden_size), "router", L)
        return [*dense_mlp_tensors(a, True, L * E, expert=True), router]

    def megatron_mlp(self, x: ActivationInputs) -> list[Saved]:
        """Router input and fp32 probabilities, the tokens permuted to their
        k experts and the expert outputs for the weighted sum, then each
        expert's SwiGLU and down projection over k x sb tokens
        (megatron/core/transformer/moe: router.py, token_dispatcher.py)."""
        a, sb, e = x.arch, x.tokens, x.act_bytes
        E, k = self.experts(a), self.active_experts(a)
        if E == 1:
            return super().megatron_mlp(x)
        h, i = a.hidden_size, a.intermediate_size
        return [
            Saved("router.input", sb * h, e, "router and expert dispatch input (2sbh)"),
            Saved("router.probs", sb * E, 4, "fp32 router softmax (4sbE)"),
            Saved("experts.input", k * sb * h, e, "tokens permuted to k experts (2ksbh)"),
            Saved("experts.output", k * sb * h, e, "expert outputs for the weighted sum"),
            *megatron_mlp_body(True, sb, i, k, e),
        ]

    def hf_mlp_input(self, a: Architecture) -> tuple[str, int]:
        """The router reads the norm's output once (the experts read a
        gathered copy, ``experts.input``)."""
        return ("router.input", 1) if self.experts(a) > 1 else super().hf_mlp_input(a)

    def hf_mlp(self, x: ActivationInputs, m: int) -> list[Saved]:
        """Mixtral's sparse block (router in modeling_mixtral.py,
        integrations/moe.py ``grouped_mm_experts_forward``): router input,
        fp32 probabilities (4sbE), top-k values, indices and their sum; the
        sorted permutation, the gather index and the inverse permutation
        (int64, 3 x 8S, S = k sb tokens), the group offsets; the gathered
        input (m Sh), gate-up output (2m Si), act output and product
        (2 x m Si), routing weights (4S), expert output (m Sh)."""
        a, sb = x.arch, x.tokens
        E, k = self.experts(a), self.active_experts(a)
        if E == 1:
            return super().hf_mlp(x, m)
        h, i = a.hidden_size, a.intermediate_size
        S = k * sb
        return [
            Saved("router.probs", sb * E, 4, "fp32 router softmax"),
            Saved("router.topk", sb * (3 * k + 1), 4, "top-k values, int64 indices, their sum"),
            Saved("experts.indices", 3 * S, 8, "sort permutation, gather index, inverse"),
            Saved("experts.offsets", E, 4, "grouped_mm offsets (int32)"),
            Saved("experts.input", S * h, m, "tokens gathered per expert"),
            Saved("experts.gate_up", 2 * S * i, m, "gate-up output (SiLU input, up)"),
            Saved("experts.act", S * i, m, "act(gate), saved by the product"),
            Saved("experts.down_input", S * i, m, "down projection input"),
            Saved("experts.weights", S, 4, "routing weights"),
            Saved("experts.output", S * h, m, "expert output, saved by x routing weight"),
        ]

    def autocast_mlp_weights(self, a: Architecture) -> int:
        """Only the router: grouped_mm experts are not autocast."""
        E = self.experts(a)
        return E * a.hidden_size if E > 1 else super().autocast_mlp_weights(a)

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        return "MixtralConfig", "MixtralForCausalLM"

    def hf_config_kwargs(
        self, a: Architecture, common: dict[str, Any], dropout: float, seq: int
    ) -> dict[str, Any]:
        """Experts run by ``experts_implementation="grouped_mm"`` (the default
        since transformers 5.0): its shapes do not depend on the routing, so
        the model traces under fake tensors."""
        return {
            **llama_config_kwargs(a, common, dropout, seq),
            "num_local_experts": a.num_local_experts,
            "num_experts_per_tok": a.num_experts_per_tok,
            "sliding_window": a.sliding_window,
            "experts_implementation": "grouped_mm",
        }
