"""The ``hf-transformers`` activation profile: what Hugging Face's PyTorch
modules save for backward (modeling_llama.py, modeling_mixtral.py,
modeling_gpt2.py), derived operation by operation and checked against
``planner measure`` traces (docs/accuracy.md).

Differences from the fused ``megatron`` profile, each from the HF code:
* RMSNorm upcasts to fp32: ``pow`` saves the fp32 copy (4sbh), ``mul``
  saves ``rsqrt`` (4sb) and the weight multiply saves the 16-bit normalised
  tensor (2sbh), which the following projections share.
* Rotary embedding ``q*cos + rotate_half(q)*sin`` saves q and
  rotate_half(q) (and the same for k); the attention kernel then saves the
  rotated q, k.
* SDPA ("flash" here) saves q, k, v, its output and fp32 logsumexp; the
  output is copied by ``transpose().reshape()`` before ``o_proj``.
* The MLP ``down(act(gate(x)) * up(x))`` saves gate (act input), act(gate)
  and up (the product's operands) and the product (down's input): 4 x 2sbi.
* The loss upcasts logits to fp32 and ``log_softmax`` saves its fp32
  output (4sbV); the 16-bit logits are returned (temporary, not saved).
"""

from __future__ import annotations

from planner.estimate.activations import ActivationInputs, Saved


def _norm(name: str, x: ActivationInputs) -> list[Saved]:
    a, sb, e = x.arch, x.tokens, x.act_bytes
    h = a.hidden_size
    if a.norm == "layernorm":
        # F.layer_norm saves its input, mean and rstd (fp32 per token).
        return [
            Saved(f"{name}.input", sb * h, e, "layer_norm input"),
            Saved(f"{name}.stats", 2 * sb, 4, "fp32 mean and rstd"),
            Saved(f"{name}.output", sb * h, e, "normalised output (next matmul input)"),
        ]
    out = [Saved(f"{name}.rsqrt", sb, 4, "fp32 rsqrt(variance)")]
    if e < 4:
        out.append(Saved(f"{name}.fp32_input", sb * h, 4, "fp32 upcast saved by pow/mul"))
    else:
        out.append(Saved(f"{name}.input", sb * h, 4, "fp32 input saved by pow/mul"))
        out.append(Saved(f"{name}.normed", sb * h, 4, "x * rsqrt saved by the weight multiply"))
        return out
    out.append(Saved(f"{name}.output", sb * h, e, "16-bit normalised output"))
    return out


def hf_layer(x: ActivationInputs) -> list[Saved]:
    a, sb, e = x.arch, x.tokens, x.act_bytes
    h, q, kv, i = a.hidden_size, a.q_dim, a.kv_dim, a.intermediate_size
    heads, s, b = a.num_attention_heads, x.seq, x.micro_batch
    out = _norm("attn_norm", x)
    if a.position == "rope":
        out += [
            Saved("q.pre_rope", sb * q, e, "q saved by q*cos"),
            Saved("q.rotate_half", sb * q, e, "rotate_half(q) saved by *sin"),
            Saved("k.pre_rope", sb * kv, e, "k saved by k*cos"),
            Saved("k.rotate_half", sb * kv, e, "rotate_half(k) saved by *sin"),
        ]
    out += [
        Saved("attn.q", sb * q, e, "attention kernel input q"),
        Saved("attn.k", sb * kv, e, "attention kernel input k"),
        Saved("attn.v", sb * kv, e, "attention kernel input v"),
    ]
    if x.attention == "eager":
        scores = b * heads * s * s
        out.append(Saved("softmax.output", scores, e, "attention probabilities", True))
        if x.dropout > 0:
            out.append(Saved("attn_dropout.mask", scores, 1, "dropout mask", True))
            out.append(Saved("attn_dropout.output", scores, e, "dropout output", True))
        out.append(Saved("attn.output", sb * q, e, "attention output before reshape"))
    else:
        out.append(Saved("attn.output", sb * q, e, "SDPA output"))
        out.append(Saved("attn.logsumexp", b * heads * s, 4, "SDPA fp32 row statistics"))
    out.append(Saved("o_proj.input", sb * q, e, "transpose().reshape() copy for o_proj"))
    if x.dropout > 0:
        out.append(Saved("attn_residual_dropout.mask", sb * h, 1, "dropout mask"))
    out += _norm("mlp_norm", x)
    k = a.num_experts_per_tok if a.is_moe else 1
    if a.is_moe:
        out.append(Saved("router.probs", sb * a.num_local_experts, 4, "fp32 router softmax"))
        out.append(Saved("experts.input", k * sb * h, e, "tokens gathered per expert"))
        out.append(Saved("experts.output", k * sb * h, e, "expert output times routing weight"))
    if a.gated_mlp:
        out += [
            Saved("mlp.gate", k * sb * i, e, "activation input"),
            Saved("mlp.act", k * sb * i, e, "act(gate), saved by the product"),
            Saved("mlp.up", k * sb * i, e, "up, saved by the product"),
        ]
    else:
        out.append(Saved("mlp.fc_in_out", k * sb * i, e, "GELU input"))
    out.append(Saved("mlp.down_input", k * sb * i, e, "down projection input"))
    if x.dropout > 0:
        out.append(Saved("mlp_dropout.mask", sb * h, 1, "dropout mask"))
    return out


def hf_non_layer(x: ActivationInputs) -> list[Saved]:
    a, sb = x.arch, x.tokens
    out = [Saved("embedding.indices", sb, 8, "int64 token ids")]
    if x.dropout > 0:
        out.append(Saved("embedding_dropout.mask", sb * a.hidden_size, 1, "dropout mask"))
    out += _norm("final_norm", x)
    out.append(Saved("loss.log_softmax", sb * a.vocab_size, 4, "fp32 log_softmax output"))
    out.append(Saved("loss.targets", sb, 8, "int64 labels saved by nll_loss"))
    return out
