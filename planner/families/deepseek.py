"""``deepseek``: DeepSeek-V2 and V3 (HF ``DeepseekV2Config``,
``DeepseekV3Config``; models/deepseek_v2/modeling_deepseek_v2.py,
models/deepseek_v3/modeling_deepseek_v3.py; DeepSeek-AI 2024,
"DeepSeek-V2", s2.1 (MLA) and s2.2 (DeepSeekMoE); DeepSeek-AI 2024,
"DeepSeek-V3 Technical Report", s2.1-2.2).

Multi-head latent attention (MLA), per layer:

* queries: ``q_proj`` (heads x qk_head_dim, h) when ``q_lora_rank`` is
  null (V2-Lite), else ``q_a_proj`` (q_lora_rank, h), an RMSNorm over
  q_lora_rank and ``q_b_proj`` (heads x qk_head_dim, q_lora_rank);
  qk_head_dim = qk_nope_head_dim + qk_rope_head_dim;
* keys and values: ``kv_a_proj_with_mqa`` (kv_lora_rank + qk_rope_head_dim,
  h), an RMSNorm over kv_lora_rank, ``kv_b_proj`` (heads x (qk_nope_head_dim
  + v_head_dim), kv_lora_rank);
* ``o_proj`` (h, heads x v_head_dim).

The KV cache holds the compressed latent and the shared rotary key only
(V2 s2.1.2, eq. 9-10, Table 1: (d_c + d_h^R) x layers elements per token):
(kv_lora_rank + qk_rope_head_dim) x layers x bytes; DeepSeek-V3 in bf16:
(512 + 64) x 61 x 2 = 70,272 B per token. Attention FLOPs: QK^T over
qk_head_dim and attention over v_head_dim, 2 x span x heads x
(qk_head_dim + v_head_dim) per layer (the decompressed form HF and
training run).

DeepSeekMoE: the first ``first_k_dense_replace`` layers keep a dense
SwiGLU MLP of ``intermediate_size``; the others have ``n_routed_experts``
experts of ``moe_intermediate_size`` (top ``num_experts_per_tok``), a
router (``n_routed_experts``, h) and ``n_shared_experts`` shared experts as
one MLP of n_shared x moe_intermediate_size. V3's router bias
``e_score_correction_bias`` is a buffer in transformers, not a parameter.
The multi-token-prediction module (``num_nextn_predict_layers``; V3 s2.2:
"671B main model + 14B MTP") is not built by transformers and is counted
apart (``mtp_parameters``), as DeepSeek reports it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from planner.architecture import Architecture, ParamTensor
from planner.families.base import dense_mlp_tensors, need
from planner.families.llama import LlamaFamily
from planner.families.moe import MoeFamily

MLA_KEYS = ("kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")


class DeepseekFamily(MoeFamily):
    name = "deepseek"
    summary = "MLA attention (compressed KV latent), shared + routed experts (DeepSeek-V2/V3)"
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {"deepseek_v2": {}, "deepseek_v3": {}}
    activations_derived = False
    config_only = True

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        out = LlamaFamily.from_hf_config(self, cfg, {}, strict=False)  # the common names
        d: dict[str, Any] = {k: need(cfg, k) for k in MLA_KEYS}
        d["q_lora_rank"] = cfg.get("q_lora_rank")
        d["first_k_dense_replace"] = cfg.get("first_k_dense_replace", 0)
        d["n_shared_experts"] = cfg.get("n_shared_experts") or 0
        d["dense_intermediate_size"] = need(cfg, "intermediate_size")
        d["num_nextn_predict_layers"] = cfg.get("num_nextn_predict_layers", 0)
        d["v3"] = cfg.get("model_type") == "deepseek_v3"
        heads = out["num_attention_heads"]
        out.update(
            architecture=self.name,
            num_key_value_heads=heads,  # MLA: every head has its own decompressed K and V
            head_dim=d["qk_nope_head_dim"] + d["qk_rope_head_dim"],
            intermediate_size=need(cfg, "moe_intermediate_size"),
            num_local_experts=need(cfg, "n_routed_experts"),
            num_experts_per_tok=need(cfg, "num_experts_per_tok"),
            attention_bias=bool(cfg.get("attention_bias", False)),
            _details=d,
        )
        return out

    # --- attention (MLA) ------------------------------------------------
    def attention_tensors(self, a: Architecture) -> list[ParamTensor]:
        h, L, n = a.hidden_size, a.num_layers, a.num_attention_heads
        qk = a.detail("qk_nope_head_dim") + a.detail("qk_rope_head_dim")
        r_kv, r_q = a.detail("kv_lora_rank"), a.detail("q_lora_rank")
        if r_q:
            t = [
                ParamTensor("attn.q_a_proj", (r_q, h), "linear", L),
                ParamTensor("attn.q_a_layernorm", (r_q,), "norm", L),
                ParamTensor("attn.q_b_proj", (n * qk, r_q), "linear", L),
            ]
        else:
            t = [ParamTensor("attn.q_proj", (n * qk, h), "linear", L)]
        v = a.detail("v_head_dim")
        t += [
            ParamTensor(
                "attn.kv_a_proj_with_mqa", (r_kv + a.detail("qk_rope_head_dim"), h), "linear", L
            ),
            ParamTensor("attn.kv_a_layernorm", (r_kv,), "norm", L),
            ParamTensor(
                "attn.kv_b_proj", (n * (a.detail("qk_nope_head_dim") + v), r_kv), "linear", L
            ),
            ParamTensor("attn.o_proj", (h, n * v), "linear", L),
        ]
        if a.attention_bias:  # q_a_proj (or none), kv_a_proj_with_mqa, o_proj
            t += [
                ParamTensor("attn.kv_a_bias", (r_kv + a.detail("qk_rope_head_dim"),), "bias", L),
                ParamTensor("attn.o_bias", (h,), "bias", L),
            ]
            if r_q:
                t.append(ParamTensor("attn.q_a_bias", (r_q,), "bias", L))
        return t

    def kv_bytes_per_layer_token(self, a: Architecture, elem_bytes: int) -> int:
        """The latent c_KV and the shared rotary key (V2 s2.1.2)."""
        return (a.detail("kv_lora_rank") + a.detail("qk_rope_head_dim")) * elem_bytes

    def attention_flops_per_token(self, a: Architecture, seq: int) -> float:
        widths = a.head_dim + a.detail("v_head_dim")  # qk_head_dim + v_head_dim
        return sum(
            2.0 * g.count * g.span(seq) * a.num_attention_heads * widths
            for g in self.attention_layers(a)
        )

    # --- MLP (DeepSeekMoE) ----------------------------------------------
    def mlp_tensors(self, a: Architecture) -> list[ParamTensor]:
        h, E = a.hidden_size, self.experts(a)
        dense = min(a.detail("first_k_dense_replace", 0), a.num_layers)
        sparse = a.num_layers - dense
        t = dense_mlp_tensors(a, True, sparse * E, expert=True)
        t.append(ParamTensor("mlp.gate", (E, h), "router", sparse))
        shared = a.detail("n_shared_experts", 0) * a.intermediate_size
        if shared:
            t += [
                ParamTensor("mlp.shared_experts.gate_up", (shared, h), "linear", 2 * sparse),
                ParamTensor("mlp.shared_experts.down", (h, shared), "linear", sparse),
            ]
        if dense:
            i = a.detail("dense_intermediate_size")
            t += [
                ParamTensor("mlp.dense.gate_up", (i, h), "linear", 2 * dense),
                ParamTensor("mlp.dense.down", (h, i), "linear", dense),
            ]
        return t

    def mtp_parameters(self, a: Architecture) -> int:
        """The MTP module, as DeepSeek-V3 s2.2 counts it (its embedding and
        output head shared with the main model): per depth, two RMSNorms
        (h each), the projection M (h, 2h), one MoE transformer block and
        the final RMSNorm of its head (modelling of the released
        checkpoint's layer 61: enorm, hnorm, eh_proj, shared_head.norm)."""
        n = a.detail("num_nextn_predict_layers", 0)
        if not n:
            return 0
        h, E = a.hidden_size, self.experts(a)
        attn = sum(t.numel for t in self.attention_tensors(a)) // a.num_layers
        i, shared = a.intermediate_size, a.detail("n_shared_experts", 0) * a.intermediate_size
        moe = 3 * h * i * E + E * h + 3 * h * shared
        return n * (3 * h + 2 * h * h + attn + moe + 2 * h)

    def approximations(self, a: Architecture) -> tuple[str, ...]:
        out = super().approximations(a)
        mtp = self.mtp_parameters(a)
        if mtp:
            copies = 2 * a.vocab_size * a.hidden_size  # embedding and head, stored again
            out += (
                f"the multi-token-prediction module ({mtp:,} parameters of its own;"
                f" {mtp + copies:,} with the embedding and head copies its checkpoint"
                " stores, DeepSeek-V3's '14B') is not in the total, as DeepSeek counts it"
                " apart; add it when training with MTP",
            )
        return out

    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        if a.detail("v3"):
            return "DeepseekV3Config", "DeepseekV3ForCausalLM"
        return "DeepseekV2Config", "DeepseekV2ForCausalLM"
