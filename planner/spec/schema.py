"""The spec file's schema (pydantic v2, unknown keys forbidden).

Every field is documented in these classes; ``planner schema`` prints the
JSON Schema built from them, and docs/spec.md describes them for people.

The classes are split over planner/spec/schema_types.py (the `Strict` base
and number types), schema_training.py, schema_inference.py,
schema_cluster.py and schema_plan.py; this module holds the model and
`SpecFile`, and re-exports every name, so ``from planner.spec.schema import X``
works for all of them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from planner.architecture import Family
from planner.spec.schema_cluster import (
    ClusterSection,
    GpuSection,
    MfuRange,
    OwnershipSection,
    PricingSection,
    TflopsSection,
)
from planner.spec.schema_inference import (
    Engine,
    EngineEfficiency,
    InferenceSection,
    PromptTokens,
    SloSection,
    TrafficSection,
    WeightPrecision,
)
from planner.spec.schema_plan import (
    AssumptionsSection,
    ConstraintsSection,
    Offload,
    ParallelismSection,
    ReportSection,
)
from planner.spec.schema_training import (
    LORA_BASE,
    QLORA_BASE,
    FinetuningSection,
    Optimizer,
    Precision,
    TrainingSection,
)
from planner.spec.schema_types import (
    Count,
    Experts,
    Fraction,
    HeadDim,
    Heads,
    KvHeads,
    Layers,
    MlpWidth,
    Number,
    Params,
    Positions,
    Strict,
    TopK,
    Vocab,
    Width,
    Window,
)

__all__ = [
    "LORA_BASE",
    "QLORA_BASE",
    "AssumptionsSection",
    "ClusterSection",
    "ConstraintsSection",
    "Count",
    "Engine",
    "EngineEfficiency",
    "Experts",
    "FinetuningSection",
    "Fraction",
    "GpuSection",
    "HeadDim",
    "Heads",
    "InferenceSection",
    "KvHeads",
    "Layers",
    "MfuRange",
    "MlpWidth",
    "ModelSection",
    "Number",
    "Offload",
    "Optimizer",
    "OwnershipSection",
    "ParallelismSection",
    "Params",
    "Positions",
    "Precision",
    "PricingSection",
    "PromptTokens",
    "ReportSection",
    "SloSection",
    "SpecFile",
    "Strict",
    "TflopsSection",
    "TopK",
    "TrafficSection",
    "TrainingSection",
    "Vocab",
    "WeightPrecision",
    "Width",
    "Window",
]


class ModelSection(Strict):
    """A model: a preset, a preset with overrides, a full architecture, a
    parameter count with the shape activations need, or an HF config.json."""

    preset: str | None = Field(None, description="Catalog name (see `planner presets`).")
    hf_config: str | None = Field(
        None, description="Path to a Hugging Face config.json (relative to the spec file)."
    )
    architecture: Family | None = Field(
        None,
        description="llama (RMSNorm, SwiGLU, rotary, optional GQA), gpt (LayerNorm, GELU"
        " MLP, learned positions, biases) or moe (llama block with experts); with"
        " hf_config or a preset also the HF families (gemma, deepseek, ...).",
    )
    title: str | None = None
    parameters: Params | None = Field(
        None, description="Total parameters, when the model is given by count as the seed does."
    )
    hidden_size: Width | None = None
    num_layers: Layers | None = None
    num_attention_heads: Heads | None = None
    num_key_value_heads: KvHeads | None = Field(None, description="Default: num_attention_heads.")
    head_dim: HeadDim | None = Field(None, description="Default: hidden_size / heads.")
    intermediate_size: MlpWidth | None = Field(
        None, description="MLP width (per expert for moe). Default: 4 x hidden for gpt."
    )
    vocab_size: Vocab | None = None
    tie_word_embeddings: bool | None = None
    max_position_embeddings: Positions | None = None
    hidden_act: str | None = None
    attention_bias: bool | None = Field(None, description="Bias on q, k, v (and o unless set).")
    attention_out_bias: bool | None = Field(None, description="Bias on the output projection.")
    mlp_bias: bool | None = None
    num_local_experts: Experts | None = Field(None, description="Experts per MoE layer.")
    num_experts_per_tok: TopK | None = Field(None, description="Active experts per token.")
    sliding_window: Window | None = None
    qk_norm: bool | None = Field(
        None, description="RMSNorm on each head's queries and keys (Qwen3). Default: false."
    )
    # Catalog-only facts (presets carry them; specs may too).
    hf_id: str | None = None
    published_parameters: Params | None = None
    published_active_parameters: Params | None = None
    published_parameters_rounded: Number | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ModelSection:
        if self.preset and self.hf_config:
            raise ValueError("give either `preset` or `hf_config`, not both")
        return self


def _preset_mapping(v: object) -> object:
    return {"preset": v} if isinstance(v, str) else v


class SpecFile(Strict):
    """One planning scenario."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80)] = Field(
        description="Slug used for output file names (lowercase, digits, '.', '_', '-')."
    )
    title: str | None = None
    description: str | None = None
    model: Annotated[ModelSection, BeforeValidator(_preset_mapping)] = Field(
        description="A preset name, or a mapping (see ModelSection)."
    )
    training: TrainingSection | None = None
    inference: InferenceSection | None = None
    cluster: ClusterSection
    constraints: ConstraintsSection = ConstraintsSection()
    objective: Literal["balanced", "cheapest", "fastest", "fewest-gpus"] = Field(
        "balanced",
        description="What the plan optimises among feasible layouts. `balanced` (default):"
        " the fastest plan costing at most assumptions.balanced_cost_band more than the"
        " cheapest; `cheapest`: the cheapest plan found.",
    )
    assumptions: AssumptionsSection = AssumptionsSection()
    parallelism: ParallelismSection | None = None
    report: ReportSection = ReportSection()

    @model_validator(mode="after")
    def _one_workload(self) -> SpecFile:
        if (self.training is None) == (self.inference is None):
            raise ValueError("give exactly one workload section: `training` or `inference`")
        return self
