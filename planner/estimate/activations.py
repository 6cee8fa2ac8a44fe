"""Activation memory: the tensors each operation saves for backward.

``activations`` means the bytes kept alive for backward at the end of one
micro-batch's forward pass: what PyTorch's ``saved_tensors_hooks`` would see,
deduplicated by storage, parameters excluded. Each saved tensor is listed
with the operation that saves it, so a report can show where the bytes go.

Profiles (``training.implementation``):

* ``megatron``: Korthikanti et al. 2022, "Reducing Activation Recomputation
  in Large Transformer Models", s4.1: fused kernels, 16-bit storage, 1-byte
  dropout masks. For a GPT layer this gives exactly s*b*h*(34 + 5*a*s/h)
  bytes (eager attention with dropout). Llama-style layers are derived the
  same way: RMSNorm saves its input like LayerNorm; Q and K are saved after
  rotary embedding (the rotation's backward needs only cos/sin); the fused
  SwiGLU kernel (megatron/core/fusions/fused_bias_swiglu.py) saves its
  input, gate and up (2 x s*b*i), and the down projection saves its input.
* ``hf-transformers``: what Hugging Face's PyTorch modules save, as traced by
  ``planner measure`` (see planner/estimate/hf_profile.py and
  docs/accuracy.md).

Symbols: s sequence, b micro-batch, h hidden, a heads, i MLP width,
kv = key/value width (GQA), V vocabulary, k active experts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from planner.estimate.saved import ActivationInputs, LoraActs, Saved

__all__ = ["ActivationInputs", "Activations", "LoraActs", "Saved", "activations"]


def megatron_layer(x: ActivationInputs) -> list[Saved]:
    """Saved tensors of one transformer layer, Korthikanti et al. 2022 s4.1."""
    a, sb, e = x.arch, x.tokens, x.act_bytes
    h, q, kv, _i = a.hidden_size, a.q_dim, a.kv_dim, a.intermediate_size
    heads, s, b = a.num_attention_heads, x.seq, x.micro_batch
    drop = x.dropout > 0
    out = [
        Saved("attn_norm.input", sb * h, e, "norm saves its input (2sbh)"),
        Saved("qkv_proj.input", sb * h, e, "shared input of the Q, K, V projections (2sbh)"),
        Saved("q", sb * q, e, "QK^T needs Q (2sbh)"),
        Saved("k", sb * kv, e, "QK^T needs K (2sbh; kv-sized under GQA)"),
        Saved("v", sb * kv, e, "attention over V needs V (2sbh; kv-sized under GQA)"),
    ]
    if a.qk_norm:  # Megatron-core qk_layernorm: each norm saves its input
        out.append(Saved("q_norm.input", sb * q, e, "query norm saves its input (2sbh)"))
        out.append(Saved("k_norm.input", sb * kv, e, "key norm saves its input (kv-sized)"))
    if x.attention == "eager":
        scores = b * heads * s * s
        out.append(Saved("softmax.output", scores, e, "softmax output (2as^2b)", True))
        if drop:
            out.append(Saved("attn_dropout.mask", scores, 1, "dropout mask (as^2b)", True))
            out.append(Saved("attn_dropout.output", scores, e, "dropout output (2as^2b)", True))
    else:
        out.append(
            Saved("flash.logsumexp", b * heads * s, 4, "fused attention keeps fp32 row statistics")
        )
    out.append(Saved("o_proj.input", sb * q, e, "output projection input (2sbh)"))
    if drop:
        out.append(Saved("attn_residual_dropout.mask", sb * h, 1, "dropout mask (sbh)"))
    out += _megatron_mlp(x)
    return out


def _megatron_mlp(x: ActivationInputs) -> list[Saved]:
    """The MLP's norm, what the family's MLP saves (dense or routed
    experts), and the residual dropout mask."""
    sb, e = x.tokens, x.act_bytes
    out = [Saved("mlp_norm.input", sb * x.arch.hidden_size, e, "norm saves its input (2sbh)")]
    out += x.arch.family_impl.megatron_mlp(x)
    if x.dropout > 0:
        out.append(Saved("mlp_dropout.mask", sb * x.arch.hidden_size, 1, "dropout mask (sbh)"))
    return out


def megatron_non_layer(x: ActivationInputs) -> list[Saved]:
    """Embedding and output layer, Korthikanti et al. 2022 s4.3: the final
    norm and LM-head inputs (2sbh each) and fp32 logits for the loss (4sbV)."""
    a, sb, e = x.arch, x.tokens, x.act_bytes
    out = [Saved("embedding.indices", sb, 8, "int64 token ids for the embedding backward")]
    if x.dropout > 0:
        out.append(Saved("embedding_dropout.mask", sb * a.hidden_size, 1, "dropout mask (sbh)"))
    out += [
        Saved("final_norm.input", sb * a.hidden_size, e, "norm saves its input (2sbh)"),
        Saved("lm_head.input", sb * a.hidden_size, e, "LM-head input (2sbh)"),
        Saved("loss.softmax", sb * a.vocab_size, 4, "cross-entropy keeps fp32 softmax (4sbV)"),
    ]
    return out


# Tensors that tensor parallelism alone does not split (Korthikanti s4.2.2:
# "the layer-norm inputs, dropout masks and the inputs of the QKV and first
# MLP projections, 10sbh"), and their counterparts outside the layers.
SEQUENCE_PARALLEL_ONLY = frozenset(
    {
        "attn_norm.input",
        "qkv_proj.input",
        "attn_residual_dropout.mask",
        "mlp_norm.input",
        "fc1.input",
        "mlp_dropout.mask",
        "router.input",
        "router.probs",
        "experts.input",
        "experts.output",
        "embedding.indices",
        "embedding_dropout.mask",
        "final_norm.input",
        "lm_head.input",
        "checkpoint.layer_input",
    }
)


def tag_shards(items: list[Saved], sp_only: frozenset[str] = SEQUENCE_PARALLEL_ONLY) -> list[Saved]:
    """Mark the tensors that only sequence parallelism divides."""
    return [replace(t, shard="sp") if t.name in sp_only else t for t in items]


def layer_saved(x: ActivationInputs) -> list[Saved]:
    """One layer's saved tensors without recomputation, for the profile."""
    if x.implementation == "hf-transformers":
        from planner.estimate.hf_profile import hf_layer

        return hf_layer(x)
    return tag_shards(megatron_layer(x))


def non_layer_saved(x: ActivationInputs) -> list[Saved]:
    if x.implementation == "hf-transformers":
        from planner.estimate.hf_profile import hf_non_layer

        return hf_non_layer(x)
    return tag_shards(megatron_non_layer(x))


@dataclass(frozen=True)
class Activations:
    """Activation memory of one micro-batch on one model replica."""

    per_layer: tuple[Saved, ...]  # what one layer keeps under the recompute mode
    full_layer: tuple[Saved, ...]  # what one layer keeps without recompute
    non_layer: tuple[Saved, ...]
    num_layers: int
    recompute: str
    # Layer 0 when it saves less than the others (LoRA: its input needs no
    # gradient, planner/estimate/lora_profile.py); empty: like the others.
    first_layer: tuple[Saved, ...] = ()

    @property
    def first_layer_bytes(self) -> int:
        if not self.first_layer:
            return self.per_layer_bytes
        return sum(t.bytes for t in self.first_layer)

    @property
    def per_layer_bytes(self) -> int:
        return sum(t.bytes for t in self.per_layer)

    @property
    def full_layer_bytes(self) -> int:
        return sum(t.bytes for t in self.full_layer)

    @property
    def non_layer_bytes(self) -> int:
        return sum(t.bytes for t in self.non_layer)

    @property
    def total(self) -> int:
        rest = (self.num_layers - 1) * self.per_layer_bytes
        return rest + self.first_layer_bytes + self.non_layer_bytes

    @property
    def recompute_working_set(self) -> int:
        """Extra bytes while a layer is recomputed in backward: its full set
        of saved tensors (only under full recompute)."""
        return self.full_layer_bytes if self.recompute == "full" else 0


def activations(x: ActivationInputs) -> Activations:
    """Apply the recompute mode (Korthikanti et al. 2022 s5):

    * none: every saved tensor of every layer;
    * selective: the attention core (scores, softmax, dropout over s x s) is
      recomputed, so those tensors are dropped;
    * full: only each layer's input (2sbh) is kept; in backward one layer at
      a time is recomputed (``recompute_working_set``).
    """
    if x.lora is not None:
        from planner.estimate.lora_profile import lora_activations

        return lora_activations(x, x.lora)
    full = layer_saved(x)
    if x.recompute == "none":
        kept = full
    elif x.recompute == "selective":
        kept = [t for t in full if not t.core_attention]
    elif x.implementation == "hf-transformers":
        from planner.estimate.hf_profile import hf_checkpointed_layer

        kept = hf_checkpointed_layer(x)
    else:
        kept = [
            Saved(
                "checkpoint.layer_input",
                x.tokens * x.arch.hidden_size,
                x.act_bytes,
                "full recompute keeps only the layer input (2sbh)",
                shard="sp",
            )
        ]
    return Activations(
        per_layer=tuple(kept),
        full_layer=tuple(full),
        non_layer=tuple(non_layer_saved(x)),
        num_layers=x.arch.num_layers,
        recompute=x.recompute,
    )


def korthikanti_layer_bytes(s: int, b: int, h: int, a: int) -> int:
    """Closed form of Korthikanti et al. 2022 eq. (1): s*b*h*(34 + 5*a*s/h),
    16-bit, eager attention with dropout, no recompute. For checks."""
    return s * b * h * 34 + 5 * a * s * s * b


def seed_activation_bytes(b: int, s: int, h: int, layers: int) -> int:
    """The seed document's activation formula: batch x seq x hidden x 2 bytes
    x layers (one 16-bit hidden state per layer)."""
    return b * s * h * 2 * layers
