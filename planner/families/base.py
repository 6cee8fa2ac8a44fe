"""The protocol every model family implements, with the dense pre-norm block
most families share.

A family says, in Hugging Face's field names (transformers'
``configuration_*.py``), which parameter tensors a model has, which spec
fields it needs and what it assumes when they are left out, how its layers
differ where the activation profiles care (fused QKV, dropout sites, the
softmax dtype), what its MLP saves for backward, and which transformers
classes build it. Everything else (memory, plan, report) asks the family
and never compares family names (the layout of vLLM's
``model_executor/models/registry.py``: one module per architecture).

Shapes follow the HF modules: ``nn.Linear(in, out)`` stores ``(out, in)``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from planner.architecture import Architecture, ParamTensor
from planner.estimate.saved import ActivationInputs, Saved
from planner.families.attention import LayerAttention, attention_layers

COMMON_REQUIRED = ("hidden_size", "num_layers", "num_attention_heads", "vocab_size")


class ModelFamily:
    """A decoder-only transformer family. Subclasses set the class
    attributes and override what differs from the dense block."""

    name: ClassVar[str]
    summary: ClassVar[str]
    # Spec fields a custom model of this family must give (beyond COMMON_REQUIRED).
    required: ClassVar[tuple[str, ...]] = ()
    # Defaults the spec resolver applies when a field is left out.
    norm: ClassVar[Literal["rmsnorm", "layernorm"]]
    position: ClassVar[Literal["rope", "learned"]]
    default_hidden_act: ClassVar[str]
    default_biases: ClassVar[bool]  # attention_bias, attention_out_bias, mlp_bias
    default_tie_word_embeddings: ClassVar[bool]
    # Layer structure, where parameter counts or saved tensors depend on it.
    gated_mlp: ClassVar[bool]  # gate_proj, up_proj, down_proj (SwiGLU)
    fused_qkv: ClassVar[bool]  # one c_attn projection instead of q/k/v_proj
    # Dropout on the embeddings and both residual branches (GPT-2's
    # embd_pdrop / resid_pdrop), not only on the attention probabilities.
    residual_dropout: ClassVar[bool]
    # Eager attention: softmax in fp32 (llama's ``dtype=torch.float32``) and
    # k/v copied to every query head by ``repeat_kv``.
    eager_softmax_fp32: ClassVar[bool]
    eager_repeats_kv: ClassVar[bool]

    # Hugging Face config.json import (planner/spec/hf_config.py):
    # model_type -> the defaults that differ from this family's reader. Only
    # types whose parameters are exactly this family's block are listed
    # (checked against the HF modeling_*.py): a type with extra tensors
    # (four norms per layer in gemma2, shared experts in qwen2_moe, MLA in
    # deepseek) would be miscounted, so it is refused.
    hf_model_types: ClassVar[dict[str, dict[str, Any]]] = {}
    # A spec that names this family may read a config of a type it does not
    # list (or one of a family whose types are ``hf_types_overridable``)
    # with this family's reader: a plain llama-style block.
    reads_unlisted_hf_types: ClassVar[bool] = False
    hf_types_overridable: ClassVar[bool] = False
    # The model's shape needs fields only a config.json carries (MLA ranks,
    # norm placement, layer types, ...): a spec naming this family gives
    # ``hf_config`` (or a preset), and may override the common fields.
    config_only: ClassVar[bool] = False

    # The saved-tensor profiles were derived for this family's own layers
    # (and ``planner measure`` traces them). False: its layers are counted
    # with the pre-norm block's derivation, and the plan says the
    # activation figure is approximate (``approximations``).
    activations_derived: ClassVar[bool] = True
    # The LoRA profile (planner/estimate/lora_profile.py) was derived and
    # traced for this family's block; False: LoRA / QLoRA are refused.
    lora_profile: ClassVar[bool] = False

    def approximations(self, a: Architecture) -> tuple[str, ...]:
        """The figures that are approximate for this model, each saying why."""
        if self.activations_derived:
            return ()
        return (
            f"activations: the {self.name} layers' saved tensors are not derived yet; the"
            " pre-norm block's profile (llama) is used for them",
        )

    def __repr__(self) -> str:
        return f"<model family {self.name}>"

    # --- a model given by its parameter count (the seed's way) -----------
    def count_only_defaults(self, f: dict[str, Any]) -> dict[str, int]:
        """Shape fields assumed when a model is given by ``parameters`` and
        leaves them out (the seed gives only the count, hidden size, layers
        and heads). Only the activation and FLOP formulas read them; the
        total stays the given count. None by default: the family's
        required fields must then be given."""
        return {}

    # --- experts -------------------------------------------------------
    def experts(self, a: Architecture) -> int:
        """Routed experts per MoE layer (1: a dense MLP)."""
        return 1

    def active_experts(self, a: Architecture) -> int:
        """Experts a token passes through per layer."""
        return 1

    # --- attention: KV cache and FLOPs ----------------------------------
    def attention_layers(self, a: Architecture) -> tuple[LayerAttention, ...]:
        """The layers grouped by attention kind (global / sliding / none)."""
        return attention_layers(a)

    def kv_bytes_per_layer_token(self, a: Architecture, elem_bytes: int) -> int:
        """KV-cache bytes one token adds to one attention layer: K and V of
        every key/value head (Pope et al. 2022, "Efficiently Scaling
        Transformer Inference", s2: 2 x kv_heads x head_dim x bytes)."""
        return 2 * a.kv_dim * elem_bytes

    def kv_cache_bytes(self, a: Architecture, tokens: float, elem_bytes: int) -> float:
        """KV-cache bytes of one sequence holding ``tokens`` tokens: the sum
        over layers, a sliding layer holding at most its window (an int
        when ``tokens`` is)."""
        per = self.kv_bytes_per_layer_token(a, elem_bytes)
        return sum(per * g.count * g.span(tokens) for g in self.attention_layers(a))

    def attention_flops_per_token(self, a: Architecture, seq: int) -> float:
        """Forward FLOPs of QK^T and attention over V for one token of a
        ``seq``-token sequence: 2 x 2 x span x heads x head_dim per layer
        (PaLM's convention, Chowdhery et al. 2022 App. B: the full s x s
        count), the span capped by a sliding layer's window."""
        return sum(4.0 * g.count * g.span(seq) * a.q_dim for g in self.attention_layers(a))

    # --- parameter tensors ----------------------------------------------
    def parameter_tensors(self, a: Architecture) -> list[ParamTensor]:
        """Every parameter tensor, grouped over layers and experts. One
        entry per HF parameter, since shape-aware optimizers (adamw-8bit's
        4096-element threshold, Adafactor's row/column factors) work per
        tensor. The counts agree with shared/reference/model_facts.yaml."""
        t = self.embedding_tensors(a)
        t += self.attention_tensors(a)
        t += self.mlp_tensors(a)
        t += self.norm_tensors(a)
        t += self.head_tensors(a)
        return t

    def embedding_tensors(self, a: Architecture) -> list[ParamTensor]:
        """Token embeddings, and learned positions where the family has them."""
        h = a.hidden_size
        t = [ParamTensor("embed_tokens", (a.vocab_size, h), "embedding")]
        if a.position == "learned":
            t.append(ParamTensor("embed_positions", (a.max_position_embeddings, h), "position"))
        return t

    # Norms in each layer (pre-attention, pre-MLP: modeling_llama.py
    # LlamaDecoderLayer input_layernorm / post_attention_layernorm).
    norms_per_layer: ClassVar[int] = 2

    def norm_tensors(self, a: Architecture) -> list[ParamTensor]:
        """The layers' norms and the final norm; a LayerNorm's weight and
        bias are separate (h,) tensors."""
        h = a.hidden_size
        per_norm = a.norm_params // h
        n = self.norms_per_layer * a.num_layers * per_norm
        return [
            ParamTensor("layer_norms", (h,), "norm", n),
            ParamTensor("final_norm", (h,), "norm", per_norm),
        ]

    def head_tensors(self, a: Architecture) -> list[ParamTensor]:
        """The LM head unless tied to the embeddings."""
        if a.tie_word_embeddings:
            return []
        return [ParamTensor("lm_head", (a.vocab_size, a.hidden_size), "lm_head")]

    def qkv_projections(self, a: Architecture) -> list[ParamTensor]:
        """Q, K, V projections (llama: q_proj, k_proj, v_proj in
        modeling_llama.py ``LlamaAttention``)."""
        h, L = a.hidden_size, a.num_layers
        return [
            ParamTensor("attn.q_proj", (a.q_dim, h), "linear", L),
            ParamTensor("attn.k_proj", (a.kv_dim, h), "linear", L),
            ParamTensor("attn.v_proj", (a.kv_dim, h), "linear", L),
        ]

    def qkv_biases(self, a: Architecture) -> list[ParamTensor]:
        """Biases of the Q, K, V projections, when ``attention_bias``."""
        if not a.attention_bias:
            return []
        L = a.num_layers
        return [
            ParamTensor("attn.q_bias", (a.q_dim,), "bias", L),
            ParamTensor("attn.k_bias", (a.kv_dim,), "bias", L),
            ParamTensor("attn.v_bias", (a.kv_dim,), "bias", L),
        ]

    def attention_tensors(self, a: Architecture) -> list[ParamTensor]:
        """Q, K, V, the output projection, their biases, and the optional
        per-head q/k RMSNorm (Qwen3Attention.q_norm / k_norm, head_dim each)."""
        h, L = a.hidden_size, a.num_layers
        t = self.qkv_projections(a)
        t.append(ParamTensor("attn.o_proj", (h, a.q_dim), "linear", L))
        t += self.qkv_biases(a)
        if a.qk_norm:
            t += [
                ParamTensor("attn.q_norm", (a.head_dim,), "norm", L),
                ParamTensor("attn.k_norm", (a.head_dim,), "norm", L),
            ]
        if a.attention_out_bias:
            t.append(ParamTensor("attn.o_bias", (h,), "bias", L))
        return t

    def mlp_tensors(self, a: Architecture) -> list[ParamTensor]:
        """The dense MLP, gated (SwiGLU: gate_proj, up_proj, down_proj) or
        plain (fc_in, GELU, fc_out), with optional biases."""
        return dense_mlp_tensors(a, self.gated_mlp, a.num_layers, expert=False)

    # --- saved tensors (activation profiles) ---------------------------
    def megatron_mlp(self, x: ActivationInputs) -> list[Saved]:
        """What the MLP saves after its norm, Korthikanti et al. 2022 s4.1;
        the fused SwiGLU kernel (megatron/core/fusions/fused_bias_swiglu.py)
        saves its input, gate and up (2 x s*b*i)."""
        sb, e = x.tokens, x.act_bytes
        h, i = x.arch.hidden_size, x.arch.intermediate_size
        out = [Saved("fc1.input", sb * h, e, "first MLP projection input (2sbh)")]
        return out + megatron_mlp_body(self.gated_mlp, sb, i, 1, e)

    def hf_mlp_input(self, a: Architecture) -> tuple[str, int]:
        """The saved tensor that holds the MLP norm's output, and how many
        linear layers read it (each saves its own bf16 cast under autocast)."""
        return "fc1.input", 2 if self.gated_mlp else 1

    def hf_mlp(self, x: ActivationInputs, m: int) -> list[Saved]:
        """What HF's dense MLP saves (``m``: bytes of matmul outputs).
        SwiGLU ``down(act(gate(x)) * up(x))`` (modeling_llama.py LlamaMLP)
        saves gate, act(gate), up and the product."""
        sb, i = x.tokens, x.arch.intermediate_size
        return [
            Saved("mlp.gate", sb * i, m, "SiLU saves its input"),
            Saved("mlp.act", sb * i, m, "act(gate), saved by the product"),
            Saved("mlp.up", sb * i, m, "up, saved by the product"),
            Saved("mlp.down_input", sb * i, m, "down projection input"),
        ]

    # --- LoRA (planner/estimate/lora.py) --------------------------------
    def peft_module_name(self, t: ParamTensor) -> str | None:
        """The HF module name PEFT's ``target_modules`` matches for a linear
        weight, or None when it cannot be adapted. None by default: a
        family lists its names once they are checked against its HF
        modeling file."""
        return None

    def autocast_mlp_weights(self, a: Architecture) -> int:
        """Elements of the MLP weights autocast copies to bf16 per layer."""
        return (3 if self.gated_mlp else 2) * a.hidden_size * a.intermediate_size

    def from_hf_config(
        self, cfg: dict[str, Any], defaults: dict[str, Any], strict: bool
    ) -> dict[str, Any]:
        """Spec model fields from a config.json mapping; ValueError names a
        missing key. ``strict``: the model_type is one this family lists."""
        raise ValueError(f"family {self.name!r} reads no Hugging Face config")

    # --- transformers classes (planner measure) -------------------------
    def hf_classes(self, a: Architecture) -> tuple[str, str]:
        """(configuration class, causal-LM model class) in ``transformers``."""
        raise NotImplementedError(f"{self.name}: no transformers classes")

    def hf_config_kwargs(
        self, a: Architecture, common: dict[str, Any], dropout: float, seq: int
    ) -> dict[str, Any]:
        """Keyword arguments of the configuration class; ``common`` holds
        the fields every config shares (vocab, hidden, layers, heads, ...)."""
        raise NotImplementedError(f"{self.name}: no transformers config")


def dense_mlp_tensors(a: Architecture, gated: bool, count: int, expert: bool) -> list[ParamTensor]:
    """The MLP's tensors, ``count`` copies (layers, or layers x experts)."""
    h, i = a.hidden_size, a.intermediate_size
    if gated:
        t = [
            ParamTensor("mlp.gate_proj", (i, h), "linear", count, expert),
            ParamTensor("mlp.up_proj", (i, h), "linear", count, expert),
            ParamTensor("mlp.down_proj", (h, i), "linear", count, expert),
        ]
        if a.mlp_bias:
            t += [
                ParamTensor("mlp.gate_bias", (i,), "bias", 2 * count, expert),  # gate, up
                ParamTensor("mlp.down_bias", (h,), "bias", count, expert),
            ]
        return t
    t = [
        ParamTensor("mlp.fc_in", (i, h), "linear", count, expert),
        ParamTensor("mlp.fc_out", (h, i), "linear", count, expert),
    ]
    if a.mlp_bias:
        t += [
            ParamTensor("mlp.fc_in_bias", (i,), "bias", count, expert),
            ParamTensor("mlp.fc_out_bias", (h,), "bias", count, expert),
        ]
    return t


def megatron_mlp_body(gated: bool, sb: int, i: int, k: int, e: int) -> list[Saved]:
    """The activation and second projection of ``k`` MLPs per token
    (Korthikanti et al. 2022 s4.1: GeLU input 2sbi, fc2 input 2sbi)."""
    if gated:
        act = Saved("swiglu.input", 2 * k * sb * i, e, "fused SwiGLU saves gate and up (4sbi)")
    else:
        act = Saved("gelu.input", k * sb * i, e, "GeLU input (2sbi = 8sbh for i = 4h)")
    return [act, Saved("fc2.input", k * sb * i, e, "second MLP projection input (2sbi)")]


def need(cfg: dict[str, Any], key: str) -> Any:
    """``cfg[key]``, or a ValueError naming the missing key."""
    if cfg.get(key) is None:
        raise ValueError(f"config.json lacks `{key}`")
    return cfg[key]
