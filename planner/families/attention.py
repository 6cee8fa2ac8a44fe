"""Attention per layer: which kind each layer has, and what that kind costs
in KV-cache bytes and attention FLOPs.

A layer's attention is global (every earlier token), sliding (the last
``window`` tokens; Beltagy et al. 2020, "Longformer", s3.1; Mistral 7B,
Jiang et al. 2023, s2) or none (a recurrent or MLP-only layer). Models that
alternate them (Gemma 2: every other layer local with a 4096 window,
modeling_gemma2.py; Gemma 3: five local layers of 1024 per global one;
gpt-oss: alternating 128-token windows) list each layer in HF's
``config.layer_types``. The KV cache of a sliding layer holds at most its
window (transformers ``cache_utils.py`` ``SlidingWindowLayer``), and its
attention reads at most its window per query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from planner.architecture import Architecture

AttentionKind = Literal["global", "sliding", "none"]

# HF ``layer_types`` values (transformers ``configuration_utils.py``
# ``ALLOWED_LAYER_TYPES``) -> the attention kind they mean.
HF_LAYER_KINDS: dict[str, AttentionKind] = {
    "full_attention": "global",
    "sliding_attention": "sliding",
    "chunked_attention": "sliding",
    "linear_attention": "none",
    "mamba": "none",
    "none": "none",
}


@dataclass(frozen=True)
class LayerAttention:
    """A run of ``count`` layers with the same attention."""

    kind: AttentionKind
    window: int | None  # tokens a sliding layer attends to (None: unbounded)
    count: int

    def span(self, tokens: float) -> float:
        """Tokens one query attends to (and a sequence keeps cached) when the
        sequence holds ``tokens``: the window caps a sliding layer."""
        if self.kind == "none":
            return 0
        if self.kind == "sliding" and self.window:
            return min(tokens, self.window)
        return tokens


def attention_layers(a: Architecture) -> tuple[LayerAttention, ...]:
    """The layers grouped by attention kind, from ``layer_types`` (each
    sliding layer with ``sliding_window``) or, when there is none, every
    layer global, or sliding when ``sliding_window`` is set (Mistral)."""
    if not a.layer_types:
        kind: AttentionKind = "sliding" if a.sliding_window else "global"
        return (LayerAttention(kind, a.sliding_window, a.num_layers),)
    counts: dict[AttentionKind, int] = {}
    for t in layer_types(a):
        k = HF_LAYER_KINDS[t]
        counts[k] = counts.get(k, 0) + 1
    return tuple(
        LayerAttention(k, a.sliding_window if k == "sliding" else None, n)
        for k, n in counts.items()
    )


def layer_types(a: Architecture) -> tuple[str, ...]:
    """One HF layer type per layer; when a spec overrides ``num_layers``,
    the config's pattern repeats (or is cut) to that many layers."""
    t = a.layer_types
    return tuple(t[i % len(t)] for i in range(a.num_layers)) if t else ()


def hf_layer_types(types: object, layers: int) -> tuple[str, ...]:
    """Validated ``layer_types`` from a config.json (ValueError names it)."""
    if not isinstance(types, (list, tuple)) or len(types) != layers:
        raise ValueError(f"`layer_types` must list one entry for each of the {layers} layers")
    bad = sorted({str(t) for t in types if t not in HF_LAYER_KINDS})
    if bad:
        raise ValueError(f"`layer_types` has {', '.join(bad)}; known: {', '.join(HF_LAYER_KINDS)}")
    return tuple(str(t) for t in types)
