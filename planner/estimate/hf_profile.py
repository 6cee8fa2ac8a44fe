"""The ``hf-transformers`` activation profile: what Hugging Face's PyTorch
modules save for backward, operation by operation, calibrated against
``planner measure`` traces (transformers 5.24, torch 2.13; docs/accuracy.md).

Dtypes. ``e`` is the 16/32-bit activation size of the precision. Under
``bf16-autocast`` (fp32 weights, ``torch.autocast``) the residual stream,
the norms and the embedding stay fp32 (``r`` = 4) while matmul outputs are
bf16 (``m`` = 2); otherwise r = m = e.

Per operation (file: transformers/models/...; "saves" = for backward):

* RMSNorm (llama/modeling_llama.py ``LlamaRMSNorm.forward``): ``x.to(fp32)``
  then ``pow(2)`` and ``x * rsqrt(..)`` save the fp32 input (4sbh) and rsqrt
  (4sb); ``weight * x.to(input_dtype)`` saves the normalised tensor (r sbh);
  the next linear layers save the output (r sbh, shared by q/k/v or
  gate/up). Under autocast each linear saves its own bf16 cast of it (autocast
  caches casts of weights only), so q, k, v save 3 x 2sbh.
* LayerNorm (gpt2/modeling_gpt2.py, ``nn.LayerNorm``): input (r sbh) and
  mean/rstd (2 x 4sb; on CPU in the input dtype); the output once (c_attn or
  c_fc), a bf16 cast under autocast.
* Rotary embedding (``apply_rotary_pos_emb``): ``q*cos + rotate_half(q)*sin``
  saves only cos and sin (2 x s x head_dim, shared by all layers), since
  cos/sin need no gradient.
* SDPA, ``attention: flash`` (integrations/sdpa_attention.py): saves q, k,
  v, its output and fp32 logsumexp (4bas). The output's
  ``transpose(1, 2).contiguous()`` is free (the kernel writes the (b, s, a, d)
  layout), so o_proj's input is the same storage. GQA: transformers passes
  ``enable_gqa=True`` when no mask is given (``use_gqa_in_sdpa``; since
  transformers 4.48 with torch >= 2.5), so k and v stay kv-sized. GPT-2's
  q, k, v are views of one c_attn output: one storage of sb(q + 2kv).
* Eager attention (``eager_attention_forward``): ``matmul`` on 4-D views
  makes contiguous copies: q (sbq), k and v after ``repeat_kv`` (sbq each,
  even under GQA), the output ``transpose().contiguous()`` (sbq). Llama's
  softmax runs in fp32 (``dtype=torch.float32``) and saves 4bas^2; GPT-2's
  runs in the activation dtype (fp32 under autocast). The probabilities
  saved by ``matmul(p, v)`` are the dropout output (m bas^2, plus the mask),
  or the 16-bit cast of an fp32 softmax, or the softmax output itself.
* Dropout: CUDA's ``native_dropout`` saves a 1-byte mask; CPU's saves the
  scaled noise in the tensor's dtype. GPT-2 drops embeddings, attention
  probabilities and both residual branches; llama/mixtral only attention
  probabilities (``attention_dropout``).
* MLP (listed by each family's ``hf_mlp``, planner/families):
  SwiGLU ``down(act(gate(x)) * up(x))`` saves gate (SiLU input),
  act(gate), up and the product: 4 m sbi. GPT-2's ``gelu_new``
  (activations.py ``NewGELUActivation``, written with pow/tanh/mul) saves 4
  m sbi (input, tanh output, 0.5x, 1 + tanh) and c_proj saves its output;
  ``F.gelu``-based activations save only their input.
* Mixtral MoE (mixtral/modeling_mixtral.py router; integrations/moe.py
  ``grouped_mm_experts_forward``): router input, fp32 probabilities (4sbE),
  top-k values, indices and their sum; the sorted permutation, the gather
  index and the inverse permutation (int64, 3 x 8S, S = k sb tokens), the
  group offsets; the gathered input (m Sh), gate-up output (2m Si), act
  output and product (2 x m Si), routing weights (4S), expert output (m Sh).
* Loss (loss/loss_utils.py ``ForCausalLMLoss``): ``logits.float()`` then
  ``log_softmax`` saves its fp32 output (4sbV); ``nll_loss`` saves int64
  targets (8sb) and a scalar.
* Autocast keeps a bf16 copy of every linear weight for the backward of its
  matmul (2 bytes per weight element), in each layer and for the LM head.
* Full recompute (``torch.utils.checkpoint``, non-reentrant): each layer
  keeps its input (r sbh); cos/sin and the position ids are kept once.
"""

from __future__ import annotations

from planner.estimate.activations import (
    SEQUENCE_PARALLEL_ONLY,
    ActivationInputs,
    Saved,
    tag_shards,
)

# HF tensors that tensor parallelism alone would not split (norm internals,
# the projections' inputs, residual dropout masks, the embedding's), the hf
# counterparts of Korthikanti's 10sbh term. Sequence parallelism splits them.
HF_SEQUENCE_PARALLEL_ONLY = SEQUENCE_PARALLEL_ONLY | frozenset(
    {
        "attn_norm.rsqrt",
        "attn_norm.stats",
        "attn_norm.normed",
        "mlp_norm.rsqrt",
        "mlp_norm.stats",
        "mlp_norm.normed",
        "final_norm.rsqrt",
        "final_norm.stats",
        "final_norm.normed",
        "router.probs",
        "router.topk",
        "experts.indices",
        "position.indices",
        "loss.targets",
    }
)


def _dtypes(x: ActivationInputs) -> tuple[int, int]:
    """(r, m): bytes of the residual stream and of matmul outputs."""
    if x.precision == "bf16-autocast":
        return 4, 2
    return x.act_bytes, x.act_bytes


def _mask(x: ActivationInputs, dropped_bytes: int) -> int:
    return dropped_bytes if x.device == "cpu" else 1


def _norm(name: str, consumer: str, linears: int, x: ActivationInputs) -> list[Saved]:
    a, sb = x.arch, x.tokens
    h = a.hidden_size
    r, _m = _dtypes(x)
    if a.norm == "layernorm":
        stats = r if x.device == "cpu" else 4
        out = [
            Saved(f"{name}.input", sb * h, r, "layer_norm saves its input"),
            Saved(f"{name}.stats", 2 * sb, stats, "layer_norm mean and rstd"),
        ]
    else:
        out = [
            Saved(f"{name}.input", sb * h, 4, "pow/mul save the fp32 input (to(float32))"),
            Saved(f"{name}.rsqrt", sb, 4, "x * rsqrt(var) saves rsqrt"),
            Saved(f"{name}.normed", sb * h, r, "weight * x saves x (input dtype)"),
        ]
    if x.precision == "bf16-autocast":
        out.append(Saved(consumer, linears * sb * h, 2, "each linear saves its bf16 input cast"))
    else:
        out.append(Saved(consumer, sb * h, r, "norm output, saved by the next linear(s)"))
    return out


def _attention(x: ActivationInputs) -> list[Saved]:
    a, sb = x.arch, x.tokens
    q, kv, heads, s, b = a.q_dim, a.kv_dim, a.num_attention_heads, x.seq, x.micro_batch
    _r, m = _dtypes(x)
    fam = a.family_impl
    if x.attention != "eager" and x.dropout > 0 and x.device == "cpu":
        return _cpu_math_attention(x)
    if x.attention != "eager":
        out = (
            [Saved("attn.qkv", sb * (q + 2 * kv), m, "SDPA q, k, v: views of c_attn's output")]
            if fam.fused_qkv
            else [
                Saved("attn.q", sb * q, m, "SDPA saves q (after rotary)"),
                Saved("attn.k", sb * kv, m, "SDPA saves k (kv-sized: enable_gqa)"),
                Saved("attn.v", sb * kv, m, "SDPA saves v"),
            ]
        )
        return [
            *out,
            Saved("attn.output", sb * q, m, "SDPA output, also o_proj's input"),
            Saved("attn.logsumexp", b * heads * s, 4, "SDPA fp32 row statistics"),
        ]
    k_numel = sb * q if fam.eager_repeats_kv else sb * kv  # repeat_kv copies to all heads
    scores = b * heads * s * s
    return _eager(x, k_numel, scores)


def _cpu_math_attention(x: ActivationInputs) -> list[Saved]:
    """CPU only: SDPA with dropout falls back to PyTorch's math path
    (aten/src/ATen/native/transformers/attention.cpp,
    ``_scaled_dot_product_attention_math``), which upcasts 16-bit inputs to
    fp32, repeats k/v to all heads and saves q, k, v, softmax, dropout mask
    and dropout output in fp32; the output is cast back for o_proj."""
    a, sb = x.arch, x.tokens
    q, scores = a.q_dim, x.micro_batch * a.num_attention_heads * x.seq * x.seq
    _, m = _dtypes(x)
    return [
        Saved("attn.qkv_fp32", 3 * sb * q, 4, "math path fp32 q, k, v (k, v repeated)"),
        Saved("softmax.output", 3 * scores, 4, "math path softmax, mask, dropout (fp32)", True),
        Saved("attn.output", sb * q, m, "output cast back, o_proj input"),
    ]


def _eager(x: ActivationInputs, k_numel: int, scores: int) -> list[Saved]:
    a, sb = x.arch, x.tokens
    q = a.q_dim
    _, m = _dtypes(x)
    soft = 4 if (a.family_impl.eager_softmax_fp32 or x.precision == "bf16-autocast") else m
    out = [
        Saved("attn.q", sb * q, m, "QK^T saves a contiguous copy of q"),
        Saved("attn.k", k_numel, m, "QK^T saves k (repeat_kv copy under GQA)"),
        Saved("softmax.output", scores, soft, "softmax output", True),
    ]
    if x.dropout > 0:
        out.append(Saved("attn_dropout.mask", scores, _mask(x, m), "dropout mask", True))
        out.append(Saved("attn_dropout.output", scores, m, "dropout output, saved by P @ V", True))
    elif soft != m:
        out.append(
            Saved("attn.probs", scores, m, "16-bit cast of the softmax, saved by P @ V", True)
        )
    out.append(Saved("attn.v", k_numel, m, "P @ V saves v (repeat_kv copy under GQA)"))
    out.append(Saved("attn.output", sb * q, m, "transpose().contiguous() copy for o_proj"))
    return out


def _weight_copies(x: ActivationInputs) -> list[Saved]:
    if x.precision != "bf16-autocast":
        return []
    a = x.arch
    n = 2 * a.hidden_size * (a.q_dim + a.kv_dim) + a.family_impl.autocast_mlp_weights(a)
    return [Saved("autocast.weight_copies", n, 2, "bf16 casts of the layer's linear weights")]


def _qk_norm(x: ActivationInputs) -> list[Saved]:
    """Qwen3Attention.q_norm / k_norm (modeling_qwen3.py): RMSNorm over each
    head's head_dim, as Qwen3RMSNorm: ``pow`` saves the fp32 input, ``mul``
    saves rsqrt (one per head and token), ``weight * x.to(input_dtype)``
    saves the normalised tensor in the projection's output dtype. Rotary
    then saves only cos/sin."""
    a, sb = x.arch, x.tokens
    if not a.qk_norm:
        return []
    _r, m = _dtypes(x)
    out = []
    for name, width, heads in (("q_norm", a.q_dim, a.num_attention_heads),
                               ("k_norm", a.kv_dim, a.num_key_value_heads)):  # fmt: skip
        out += [
            Saved(f"{name}.input", sb * width, 4, "pow/mul save the fp32 input"),
            Saved(f"{name}.rsqrt", sb * heads, 4, "x * rsqrt(var) saves rsqrt per head"),
            Saved(f"{name}.normed", sb * width, m, "weight * x saves x (projection dtype)"),
        ]
    return out


def hf_layer(x: ActivationInputs) -> list[Saved]:
    a, sb, h = x.arch, x.tokens, x.arch.hidden_size
    fam = a.family_impl
    _r, m = _dtypes(x)
    drop = x.dropout > 0 and fam.residual_dropout
    qkv_linears = 1 if fam.fused_qkv else 3
    out = _norm("attn_norm", "qkv_proj.input", qkv_linears, x) + _qk_norm(x) + _attention(x)
    if drop:
        out.append(Saved("attn_residual_dropout.mask", sb * h, _mask(x, m), "dropout mask"))
    consumer, linears = fam.hf_mlp_input(a)
    out += _norm("mlp_norm", consumer, linears, x) + fam.hf_mlp(x, m)
    if drop:
        out.append(Saved("mlp_dropout.mask", sb * h, _mask(x, m), "dropout mask"))
    return tag_shards(out + _weight_copies(x), HF_SEQUENCE_PARALLEL_ONLY)


def hf_checkpointed_layer(x: ActivationInputs) -> list[Saved]:
    """Full recompute: the layer's input, kept by the checkpoint."""
    r, _ = _dtypes(x)
    why = "checkpoint keeps the layer input"
    return [Saved("checkpoint.layer_input", x.tokens * x.arch.hidden_size, r, why, shard="sp")]


def hf_non_layer(x: ActivationInputs) -> list[Saved]:
    a, sb, s = x.arch, x.tokens, x.seq
    r, _ = _dtypes(x)
    out = [Saved("embedding.indices", sb, 8, "int64 token ids")]
    if a.position == "learned":
        out.append(Saved("position.indices", s, 8, "int64 position ids (wpe)"))
        if x.dropout > 0:
            mask = _mask(x, r)
            out.append(Saved("embedding_dropout.mask", sb * a.hidden_size, mask, "dropout mask"))
    else:
        out.append(Saved("rope.cos_sin", 2 * s * a.head_dim, r, "cos and sin, shared by layers"))
        if x.recompute == "full":
            out.append(Saved("position.indices", s, 8, "position ids kept by the checkpoints"))
    if x.attention == "eager" and x.recompute == "full":
        mask = x.micro_batch * s * s
        out.append(Saved("attention_mask", mask, r, "eager causal mask kept by the checkpoints"))
    out += _norm("final_norm", "lm_head.input", 1, x)
    if x.precision == "bf16-autocast":
        v = a.vocab_size * a.hidden_size
        out.append(Saved("autocast.lm_head_copy", v, 2, "bf16 cast of the LM-head weight"))
    out += [
        Saved("loss.log_softmax", sb * a.vocab_size, 4, "fp32 log_softmax output"),
        # labels padded to s+1 then sliced [..., 1:].contiguous(): a copy
        # unless b == 1, where the slice is already contiguous (loss_utils.py).
        Saved("loss.targets", sb + (x.micro_batch == 1), 8, "int64 shifted labels"),
        Saved("loss.total_weight", 1, 4, "nll_loss scalar"),
    ]
    return tag_shards(out, HF_SEQUENCE_PARALLEL_ONLY)
