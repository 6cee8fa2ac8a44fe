"""The typed description of a transformer, and the parameter tensors it implies.

``Architecture`` holds a model's shape in Hugging Face's field names;
``family`` names the module in planner/families that says what the shape
means: ``llama`` (HF ``LlamaConfig``; with ``qk_norm``, Qwen3), ``gpt``
(``GPT2Config``) and ``moe`` (``MixtralConfig``). Nothing outside
planner/families compares family names; it asks the family.

A model may also be given only by its parameter count (the seed's "7B"):
then ``parameters`` is set and the shape fields serve the activation and
FLOP formulas only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from planner.families.base import ModelFamily

# The keys of planner.families.FAMILIES, in order.
Family = Literal[
    "llama",
    "gpt",
    "moe",
    "gemma",
    "qwen2_moe",
    "deepseek",
    "gpt_oss",
    "gpt_neox",
    "starcoder2",
    "cohere",
    "olmo2",
    "olmoe",
    "phimoe",
    "falcon",
    "bloom",
    "opt",
    "gpt_bigcode",
    "mamba",
    "jamba",
    "hf_counted",
]
# "encoder": a tower the text tokens do not pass through (a vision encoder):
# in the total and the weights, not in the layers or a token's matmuls.
# "adapter": a LoRA A or B matrix (planner/estimate/lora.py), not in the base model.
TensorKind = Literal[
    "embedding", "position", "linear", "bias", "norm", "router", "lm_head", "encoder", "adapter"
]


@dataclass(frozen=True)
class ParamTensor:
    """One parameter tensor (or a family of identical ones)."""

    name: str
    shape: tuple[int, ...]
    kind: TensorKind
    count: int = 1  # how many identical tensors (layers x experts)
    expert: bool = False  # belongs to an MoE expert (active only for top-k)

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n * self.count


@dataclass(frozen=True)
class Architecture:
    name: str
    family: Family
    hidden_size: int
    num_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    tie_word_embeddings: bool
    max_position_embeddings: int
    hidden_act: str
    attention_bias: bool  # bias on q, k, v projections
    attention_out_bias: bool  # bias on the output projection
    mlp_bias: bool
    norm: Literal["rmsnorm", "layernorm"]
    position: Literal["rope", "learned"]
    num_local_experts: int = 1
    num_experts_per_tok: int = 1
    sliding_window: int | None = None
    # RMSNorm over each head's queries and keys before rotary (Qwen3,
    # OLMo 2: HF Qwen3Attention.q_norm / k_norm, weight of head_dim each).
    qk_norm: bool = False
    # Each layer's attention in HF's vocabulary (``config.layer_types``:
    # "full_attention", "sliding_attention"; "none" for a layer without
    # attention). Empty: every layer alike, sliding when ``sliding_window``.
    layer_types: tuple[str, ...] = ()
    # The family's own config fields in HF's names (MLA ranks, shared
    # experts, norm placement, ...), read only by that family
    # (``detail``); sorted (key, value) pairs so the record stays frozen.
    details: tuple[tuple[str, Any], ...] = ()
    # Set only when the model is given by its parameter count (the seed's way).
    parameters: int | None = None
    # Published count for presets, kept so tests and reports can compare.
    published_parameters: int | None = None
    source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def detail(self, key: str, default: Any = None) -> Any:
        """A family-specific config field (``details``), or ``default``."""
        return next((v for k, v in self.details if k == key), default)

    @property
    def family_impl(self) -> ModelFamily:
        """The family module's implementation (planner/families)."""
        from planner.families import family_of

        return family_of(self)

    @property
    def gated_mlp(self) -> bool:
        return self.family_impl.gated_mlp

    @property
    def experts(self) -> int:
        """Routed experts per MoE layer; 1 for a dense MLP."""
        return self.family_impl.experts(self)

    @property
    def active_experts(self) -> int:
        """Experts each token passes through per layer (top-k; 1 if dense)."""
        return self.family_impl.active_experts(self)

    @property
    def is_moe(self) -> bool:
        return self.experts > 1

    @property
    def q_dim(self) -> int:
        """Width of the concatenated query heads (n_heads x head_dim)."""
        return self.num_attention_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Width of the concatenated key (or value) heads; smaller under GQA."""
        return self.num_key_value_heads * self.head_dim

    @property
    def norm_params(self) -> int:
        """Parameters of one norm: weight (RMSNorm) or weight and bias (LayerNorm)."""
        return self.hidden_size * (2 if self.norm == "layernorm" else 1)

    @property
    def by_count_only(self) -> bool:
        return self.parameters is not None


def parameter_tensors(a: Architecture) -> list[ParamTensor]:
    """Every parameter tensor of the model, grouped over layers and experts,
    as its family lists them (``ModelFamily.parameter_tensors``)."""
    return a.family_impl.parameter_tensors(a)
