"""Parameter counts from the architecture.

Counts follow the HF modules exactly (tied weights counted once, as
``model.num_parameters()`` does); see shared/reference/model_facts.yaml,
which lists the published counts these must equal.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.architecture import Architecture, ParamTensor, parameter_tensors


@dataclass(frozen=True)
class ParameterCounts:
    total: int
    embedding: int  # token (+ learned position) embeddings
    lm_head: int  # untied output projection; 0 when tied to the embeddings
    per_layer: int  # one transformer block, all experts
    per_layer_active: int  # one block, top-k experts only
    final_norm: int
    active: int  # parameters a token touches (MoE: top-k experts)
    matmul_per_token: int  # weights in forward matmuls per token, incl. the LM head even when tied
    tensors: tuple[ParamTensor, ...]

    @property
    def non_embedding(self) -> int:
        return self.total - self.embedding - self.lm_head


def count_parameters(a: Architecture) -> ParameterCounts:
    """Count parameters; for a model given only by count, split it from its shape."""
    tensors = tuple(parameter_tensors(a))
    L = a.num_layers
    emb = sum(t.numel for t in tensors if t.kind in ("embedding", "position"))
    head = sum(t.numel for t in tensors if t.kind == "lm_head")
    final_norm = sum(t.numel for t in tensors if t.name == "final_norm")
    layer_all = sum(t.numel for t in tensors if t.kind in ("linear", "bias", "router"))
    layer_all += sum(t.numel for t in tensors if t.kind == "norm" and t.name != "final_norm")
    expert = sum(t.numel for t in tensors if t.expert)
    k, e = a.active_experts, a.experts
    layer_active = layer_all - expert + expert * k // e
    lm_matmul = a.vocab_size * a.hidden_size  # the head is a matmul even when tied
    linear_active = sum(t.numel for t in tensors if t.kind == "linear" and not t.expert)
    linear_active += sum(t.numel for t in tensors if t.kind == "linear" and t.expert) * k // e
    linear_active += sum(t.numel for t in tensors if t.kind == "router")

    if a.parameters is not None:
        # Given by count (the seed's "7B = 7e9"): the total is what the user
        # says; the split assumes the embeddings of the stated vocabulary and
        # puts the rest evenly into the layers.
        total = a.parameters
        rest = max(total - emb - head - final_norm, 0)
        per_layer = rest // L
        return ParameterCounts(
            total=total,
            embedding=emb,
            lm_head=head,
            per_layer=per_layer,
            per_layer_active=per_layer,
            final_norm=final_norm,
            active=total,
            matmul_per_token=rest + lm_matmul,
            tensors=tensors,
        )

    encoder = sum(t.numel for t in tensors if t.kind == "encoder")
    total = emb + head + final_norm + layer_all + encoder
    return ParameterCounts(
        total=total,
        embedding=emb,
        lm_head=head,
        per_layer=layer_all // L,
        per_layer_active=layer_active // L,
        final_norm=final_norm,
        active=emb + head + final_norm + layer_active + encoder,
        matmul_per_token=linear_active + lm_matmul,
        tensors=tensors,
    )
