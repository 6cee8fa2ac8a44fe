"""The ``hf-transformers`` activation profile under LoRA / QLoRA: what a
PEFT-wrapped Hugging Face llama block saves for backward when its base is
frozen, checked against ``planner measure`` traces (tests/test_lora_measure.py).

Autograd saves a tensor only for a gradient it will compute (the generated
``VariableType`` code guards each save with ``should_compute_output``): a
frozen ``nn.Linear`` keeps its weight (a parameter, not an activation) for
its input's gradient and not its input, and bitsandbytes' ``MatMul4Bit``
likewise keeps only the packed weight (``ctx.tensors = (None, B)``). So
what a layer saves depends on which tensors require a gradient:

* the residual stream entering layer 0 does not (the embedding is frozen
  unless ``trainable_extra`` names it); after any adapter it does, so every
  later layer's input does. g = "the layer input requires grad".
* RMSNorm (llama ``LlamaRMSNorm``) saves its fp32 input and rsqrt only if
  g; ``weight * x`` saves nothing for x (the weight is frozen).
* An adapted linear (peft/tuners/lora/layer.py ``Linear.forward``:
  ``result + lora_B(lora_A(dropout(x))) * scaling``) saves the input of
  ``lora_A`` (x itself without dropout, one storage shared by q/k/v or
  gate/up; with dropout the mask and the dropped copy, per module) and the
  r-wide input of ``lora_B``. Under ``bf16-autocast`` (fp32 adapters) PEFT
  casts x to fp32 (``_cast_input_dtype``) and autocast casts it back to
  bf16 per module (activation casts are not cached), and keeps bf16 casts
  of A and B (weight casts are cached).
* SDPA saves q, k, v, its output and the fp32 logsumexp if any of q, k, v
  requires grad; the MLP's SiLU its input and the product both factors if
  they require grad; rotary saves cos/sin (shared) once q or k does.
* Outside the layers: the final norm's fp32 input and rsqrt, the loss
  (fp32 log_softmax, int64 targets); the embedding's indices and the LM
  head's input only when those train.

Derived for the llama block (dense, no qk-norm) with SDPA attention; other
cases are refused at validation (planner/spec/crosscheck.py).
"""

from __future__ import annotations

from planner.estimate.activations import Activations, tag_shards
from planner.estimate.hf_profile import HF_SEQUENCE_PARALLEL_ONLY
from planner.estimate.saved import ActivationInputs, LoraActs, Saved


def _autocast(x: ActivationInputs) -> bool:
    return x.precision == "bf16-autocast"


def _adapter_inputs(
    x: ActivationInputs,
    lo: LoraActs,
    names: tuple[str, ...],
    width: int,
    where: str,
    grad_in: bool = True,
) -> list[Saved]:
    """What ``lora_A`` keeps for the adapted modules among ``names`` that
    read one input of ``width`` per token; ``grad_in``: that input requires
    grad (else dropout keeps no mask)."""
    sb, m = x.tokens, 2
    on = [n for n in names if n in lo.targets]
    if not on:
        return []
    cast = _autocast(x)
    if lo.dropout == 0 and not cast:
        return [Saved(f"{where}.lora_input", sb * width, m, "lora_A saves the shared input")]
    out: list[Saved] = []
    for n in on:
        if lo.dropout > 0 and grad_in:
            mask = (4 if cast else m) if x.device == "cpu" else 1
            out.append(Saved(f"{n}.lora_dropout.mask", sb * width, mask, "dropout mask"))
            why = "bf16 cast of the dropped input" if cast else "dropout output, lora_A's input"
        else:
            why = "autocast's bf16 cast of the input (per module)"
        out.append(Saved(f"{n}.lora_A.input", sb * width, m, why))
    return out


def _adapter_outputs(
    x: ActivationInputs, lo: LoraActs, names: tuple[str, ...], grad_in: bool = True
) -> list[Saved]:
    """lora_B's input (r per token) and, under autocast, the bf16 casts of
    B and (only when the adapter's input requires grad, as its input
    gradient needs it) of A."""
    a, sb = x.arch, x.tokens
    widths = {
        "q_proj": (a.hidden_size, a.q_dim),
        "k_proj": (a.hidden_size, a.kv_dim),
        "v_proj": (a.hidden_size, a.kv_dim),
        "o_proj": (a.q_dim, a.hidden_size),
        "gate_proj": (a.hidden_size, a.intermediate_size),
        "up_proj": (a.hidden_size, a.intermediate_size),
        "down_proj": (a.intermediate_size, a.hidden_size),
    }
    out: list[Saved] = []
    for n in names:
        if n not in lo.targets:
            continue
        out.append(Saved(f"{n}.lora_B.input", sb * lo.rank, 2, "lora_B saves A's output"))
        if _autocast(x):
            i, o = widths[n]
            numel = lo.rank * ((i if grad_in else 0) + o)
            out.append(Saved(f"{n}.lora_weights_bf16", numel, 2, "autocast casts of B (and A)"))
    return out


def _norm(name: str, x: ActivationInputs) -> list[Saved]:
    sb, h = x.tokens, x.arch.hidden_size
    return [
        Saved(f"{name}.input", sb * h, 4, "pow/mul save the fp32 input (to(float32))"),
        Saved(f"{name}.rsqrt", sb, 4, "x * rsqrt(var) saves rsqrt"),
    ]


def lora_layer(x: ActivationInputs, lo: LoraActs, g: bool) -> list[Saved]:
    """One llama layer's saved tensors; ``g``: its input requires grad."""
    a, sb = x.arch, x.tokens
    h, q, kv, i = a.hidden_size, a.q_dim, a.kv_dim, a.intermediate_size
    t = lo.targets
    out = _norm("attn_norm", x) if g else []
    qkv = ("q_proj", "k_proj", "v_proj")
    out += _adapter_inputs(x, lo, qkv, h, "qkv_proj", g) + _adapter_outputs(x, lo, qkv, g)
    attn_grad = g or any(n in t for n in qkv)
    if attn_grad:
        out += [
            Saved("attn.q", sb * q, 2, "SDPA saves q (after rotary)"),
            Saved("attn.k", sb * kv, 2, "SDPA saves k (kv-sized: enable_gqa)"),
            Saved("attn.v", sb * kv, 2, "SDPA saves v"),
            Saved("attn.output", sb * q, 2, "SDPA output, also o_proj's input"),
            Saved("attn.logsumexp", x.micro_batch * a.num_attention_heads * x.seq, 4, "fp32"),
        ]
    if "o_proj" in t and (lo.dropout > 0 or _autocast(x) or not attn_grad):
        out += _adapter_inputs(x, lo, ("o_proj",), q, "o_proj", attn_grad)
    out += _adapter_outputs(x, lo, ("o_proj",), attn_grad)
    g2 = attn_grad or "o_proj" in t
    out += _norm("mlp_norm", x) if g2 else []
    gate_up = ("gate_proj", "up_proj")
    out += _adapter_inputs(x, lo, gate_up, h, "gate_up_proj", g2)
    out += _adapter_outputs(x, lo, gate_up, g2)
    gate_grad, up_grad = g2 or "gate_proj" in t, g2 or "up_proj" in t
    if gate_grad:
        out.append(Saved("mlp.gate", sb * i, 2, "SiLU saves its input"))
    if up_grad:
        out.append(Saved("mlp.act", sb * i, 2, "act(gate), saved by the product"))
    if gate_grad:
        out.append(Saved("mlp.up", sb * i, 2, "up, saved by the product"))
    down_in = gate_grad or up_grad  # the product requires grad
    out += _adapter_inputs(x, lo, ("down_proj",), i, "down_proj", down_in)
    return out + _adapter_outputs(x, lo, ("down_proj",), down_in)


def lora_non_layer(x: ActivationInputs, lo: LoraActs) -> list[Saved]:
    """Outside the layers (module docstring)."""
    a, sb, s = x.arch, x.tokens, x.seq
    out = []
    if lo.embedding_trains:
        out.append(Saved("embedding.indices", sb, 8, "int64 token ids (embedding trains)"))
    out.append(Saved("rope.cos_sin", 2 * s * a.head_dim, 2, "cos and sin, shared by layers"))
    if x.recompute == "full":
        out.append(Saved("position.indices", s, 8, "position ids kept by the checkpoints"))
    out += _norm("final_norm", x)
    if lo.lm_head_trains:
        out.append(Saved("lm_head.input", sb * a.hidden_size, 2, "the trained LM head's input"))
    out.append(Saved("loss.log_softmax", sb * a.vocab_size, 4, "fp32 log_softmax output"))
    out.append(Saved("loss.targets", sb + (x.micro_batch == 1), 8, "int64 shifted labels"))
    out.append(Saved("loss.total_weight", 1, 4, "nll_loss scalar"))
    return out


def lora_checkpointed_layer(x: ActivationInputs) -> list[Saved]:
    """Full recompute: the layer input (16-bit base), kept by the checkpoint."""
    why = "checkpoint keeps the layer input"
    return [Saved("checkpoint.layer_input", x.tokens * x.arch.hidden_size, 2, why, shard="sp")]


def lora_activations(x: ActivationInputs, lo: LoraActs) -> Activations:
    """Layer 0 (its input requires grad only if the embedding trains), the
    other layers (their input does: an adapter precedes them), and the rest;
    full recompute keeps each layer's input."""
    rest = tag_shards(lora_layer(x, lo, True), HF_SEQUENCE_PARALLEL_ONLY)
    first = tag_shards(lora_layer(x, lo, lo.embedding_trains), HF_SEQUENCE_PARALLEL_ONLY)
    kept, first_kept = rest, first
    if x.recompute == "full":
        kept = first_kept = lora_checkpointed_layer(x)
    non = tag_shards(lora_non_layer(x, lo), HF_SEQUENCE_PARALLEL_ONLY)
    return Activations(
        per_layer=tuple(kept),
        full_layer=tuple(rest),
        non_layer=tuple(non),
        num_layers=x.arch.num_layers,
        recompute=x.recompute,
        first_layer=tuple(first_kept),
    )
