"""Per-GPU training memory under a parallel layout, per component, in bytes.

Definitions (every figure is one GPU of the worst pipeline stage):

* ``usable_memory_per_gpu`` = the device memory (``Gpu.memory_bytes``, the
  driver-reported figure where known, else the marketed size in GiB) minus
  the CUDA context (``assumptions.cuda_context_gib``). Everything below must
  fit in it.
* Model states (ZeRO, Rajbhandari et al. 2020, s3.1 and s5 / Figure 1):
  16-bit weights 2Ψ, gradients 2Ψ (4Ψ with fp32 gradients, as Megatron-LM),
  fp32 master weights 4Ψ and Adam's m and v 8Ψ (K = 12 = master + m + v), for
  Ψ the parameters this GPU holds. Ψ = the largest pipeline stage's share:
  the first stage holds the embedding, the last the final norm and LM head
  (and, with tied embeddings and p > 1, a copy of the word embedding, as
  Megatron-LM keeps one on the last stage); layers split ceil(L/p) per
  stage; everything divided by t (ASSUMPTION: norms and biases, which
  Megatron replicates across TP ranks, are approximated as divided too; they
  are < 0.1% of a large model); MoE expert weights divided by e as well.
  ZeRO over the data-parallel group d: stage 1 shards the optimizer states
  and fp32 master weights, stage 2 also the gradients, stage 3 also the
  16-bit weights: (2+2+K)Ψ, 2Ψ+2Ψ+KΨ/N_d, 2Ψ+(2+K)Ψ/N_d, (2+2+K)Ψ/N_d.
  Ψ counts the trainable set (planner/estimate/trainable.py) for master
  weights, gradients and optimizer states; frozen parameters add weights
  only (and are sharded by stage 3 only, as DeepSpeed partitions them).
* Offload (Ren et al. 2021, "ZeRO-Offload", s4.1): ``optimizer`` keeps the
  fp32 master weights, optimizer states and gradients on the host; the GPU
  keeps the 16-bit weights and, at ZeRO-2/3 (and on one GPU), one gradient
  bucket in flight. ZeRO-1 does not partition gradients
  (``deepspeed/runtime/zero/stage_1_and_2.py``: ``partition_gradients`` is
  stage >= 2): the full 16-bit gradients stay on the GPU through gradient
  accumulation and go to the host at the step. ``optimizer+params``
  (Rajbhandari et al. 2021, "ZeRO-Infinity", s5) also moves the 16-bit
  weights, keeping only the working set of gathered layers (counted under
  communication). Host RAM: planner/plan/host.py.
* Activations: planner.estimate.activations (Korthikanti et al. 2022) per
  layer; items tagged "tp" are divided by t, items tagged "sp" by t only with
  sequence parallelism (s4.2.2); context parallelism divides the sequence
  (ASSUMPTION: also for eager attention scores, which ring attention never
  materialises in full). Under 1F1B the first stage keeps min(p, m)
  micro-batches in flight (s4.2.3), times 1 + (p-1)/(p*v) under the
  interleaved schedule; the last stage keeps one. Embedding activations sit
  on the first stage; final norm, LM head and loss on the last (s4.3).
* other = temporaries + communication buffers + allocator fragmentation;
  see ``_temporary``, ``_communication`` and docs/plan.md for the sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from planner.catalog import gib_to_bytes
from planner.estimate.activations import Saved, activations
from planner.estimate.memory import (
    activation_inputs,
    dequantized_weight_bytes,
    loss_gradient_bytes,
)
from planner.estimate.params import ParameterCounts
from planner.estimate.states import ModelStates, PrecisionConvention
from planner.estimate.trainable import StageSplit, model_states, training_set
from planner.plan.layout import Layout
from planner.plan.offload import ceil_div, offloaded, zero_sharded
from planner.spec.model import Spec
from planner.units import MiB

FIRST_STAGE_ITEMS = frozenset({"embedding.indices", "embedding_dropout.mask"})


@dataclass(frozen=True)
class ActBytes:
    """One micro-batch's activation bytes, split by how TP divides them."""

    layer_tp: int
    layer_sp: int
    work_tp: int  # one layer's full set, rematerialised under full recompute
    work_sp: int
    first_tp: int  # non-layer items on the first stage
    first_sp: int
    last_tp: int  # non-layer items on the last stage
    last_sp: int
    logits: int  # 16-bit logits, vocab-parallel (divided by t)
    loss_grad: int  # fp32 gradient of the logits


def _split(items: tuple[Saved, ...] | list[Saved]) -> tuple[int, int]:
    tp = sum(s.bytes for s in items if s.shard != "sp")
    return tp, sum(s.bytes for s in items) - tp


class PlanModel:
    """Facts about the spec's model that every layout reuses (computed once)."""

    def __init__(self, spec: Spec, counts: ParameterCounts, conv: PrecisionConvention) -> None:
        t = spec.training
        assert t is not None
        self.spec, self.arch, self.counts, self.conv, self.training = (
            spec,
            spec.model,
            counts,
            conv,
            t,
        )
        self.trainable = training_set(t, conv, counts.tensors, counts.total, spec.model)
        self.states = model_states(self.trainable, t.optimizer)
        L = self.arch.num_layers
        self.expert_per_layer = sum(x.numel for x in counts.tensors if x.expert) // L
        self.word_embedding = self.arch.vocab_size * self.arch.hidden_size
        base = StageSplit(
            counts.embedding, counts.per_layer, self.expert_per_layer, counts.final_norm,
            counts.lm_head, self.word_embedding if self.arch.tie_word_embeddings else 0,
        )  # fmt: skip
        # LoRA adapters sit in the layers, trainable copies where their module is.
        self.split = self.trainable.with_additions(base, L)
        self.trainable_split = self.trainable.split(self.split, L, self.arch.tie_word_embeddings)
        self.dequantized = dequantized_weight_bytes(self.trainable)  # QLoRA, else 0
        self._acts: dict[tuple[int, str], ActBytes] = {}
        # gpu_memory's results by (layout, usable): the memory model runs once
        # per evaluated layout, however many rules, sweeps and outputs ask.
        self.memory_cache: dict[tuple[Layout, int], GpuMemory] = {}

    def act_bytes(self, micro_batch: int, recompute: str) -> ActBytes:
        """Activation bytes per micro-batch (planner.estimate.activations), cached."""
        key = (micro_batch, recompute)
        if key not in self._acts:
            x = activation_inputs(self.arch, self.training, self.conv, micro_batch, recompute)
            a = activations(x)
            first = [s for s in a.non_layer if s.name in FIRST_STAGE_ITEMS]
            last = [s for s in a.non_layer if s.name not in FIRST_STAGE_ITEMS]
            work = a.full_layer if recompute == "full" else ()
            sbv = x.tokens * self.arch.vocab_size
            self._acts[key] = ActBytes(
                *_split(a.per_layer), *_split(work), *_split(first), *_split(last),
                logits=sbv * x.act_bytes, loss_grad=loss_gradient_bytes(sbv, x.act_bytes),
            )  # fmt: skip
        return self._acts[key]

    @cached_property
    def weight_bytes_per_param(self) -> float:
        """Bytes per parameter of the stored weights: the precision's, or
        under LoRA / QLoRA the average over the frozen base at its storage
        and the adapters (what ZeRO-3 gathers and parameter offload moves)."""
        ts = self.trainable
        if ts.adapters is None:
            return self.conv.weight_bytes
        return ts.weight_storage_bytes() / ts.total

    @cached_property
    def layer_params(self) -> int:
        return self.counts.per_layer

    def stage_params(self, lay: Layout) -> tuple[float, float]:
        """Parameters per GPU on the first and on the last pipeline stage."""
        return self._stage(self.split, lay)

    def stage_trainable(self, lay: Layout) -> tuple[float, float]:
        """Trainable parameters per GPU on the first and on the last stage."""
        return self._stage(self.trainable_split, lay)

    def _stage(self, c: StageSplit, lay: Layout) -> tuple[float, float]:
        t, p = lay.t, lay.p
        per_layer = (c.per_layer - c.expert_per_layer) / t
        per_layer += c.expert_per_layer / (t * lay.e)
        layers = ceil_div(self.arch.num_layers, p) * per_layer
        head = (c.final_norm + c.lm_head) / t
        if p == 1:
            both = c.embedding / t + layers + head
            return both, both
        head += c.word_embedding / t
        return c.embedding / t + layers, layers + head

    def stages(self, lay: Layout) -> tuple[tuple[float, float], tuple[float, float]]:
        """(parameters, trainable parameters) per GPU on the first and last stage."""
        ps, ts = self.stage_params(lay), self.stage_trainable(lay)
        return (ps[0], ts[0]), (ps[1], ts[1])

    def scaled_states(self, params: float, trainable: float | None = None) -> ModelStates:
        """The full model's states scaled to ``params`` parameters of which
        ``trainable`` train (default: the model's trainable share)."""
        ts, s = self.trainable, self.states
        f = params / ts.total
        g = f  # the trainable share scales like the stage's share of all parameters
        if trainable is not None:
            g = trainable / ts.trainable if ts.trainable else 0.0
        return ModelStates(
            master_weights=round(s.master_weights * g),
            weights=round(s.weights * f),
            gradients=round(s.gradients * g),
            optimizer_states=round(s.optimizer_states * g),
        )

    def gpu_states(self, params: float, lay: Layout, trainable: float | None = None) -> ModelStates:
        sharded = zero_sharded(self.scaled_states(params, trainable), lay.zero_stage, lay.z)
        return offloaded(sharded, lay.offload, lay.zero_stage)


@dataclass(frozen=True)
class GpuMemory:
    stage: str  # "first", "last" or "only"
    weights: int
    master_weights: int
    gradients: int
    optimizer_states: int
    activations: int
    temporary: int
    communication: int
    fragmentation: int
    usable: int

    @property
    def model_states(self) -> int:
        return self.weights + self.master_weights + self.gradients + self.optimizer_states

    @property
    def other(self) -> int:
        return self.temporary + self.communication + self.fragmentation

    @property
    def total(self) -> int:
        return self.model_states + self.activations + self.other

    @property
    def margin(self) -> int:
        """usable - total: negative when it does not fit."""
        return self.usable - self.total

    @property
    def fits(self) -> bool:
        return self.margin >= 0


def usable_memory_per_gpu(spec: Spec, gpu_memory_bytes: int) -> int:
    """Device memory minus the CUDA context (module docstring)."""
    return gpu_memory_bytes - gib_to_bytes(spec.assumptions.cuda_context_gib)


def _div(tp: int, sp: int, lay: Layout) -> float:
    return (tp / lay.t + sp / (lay.t if lay.sequence_parallel else 1)) / lay.c


def _stage_activations(ab: ActBytes, lay: Layout, layers: int, first: bool, last: bool) -> int:
    """Activations kept on one stage (Korthikanti et al. 2022 s4.2.3, s4.3)."""
    in_flight: float = 1.0
    if first:
        in_flight = min(lay.p, max(lay.num_microbatches, 1))
        if lay.v > 1:
            in_flight *= 1 + (lay.p - 1) / (lay.p * lay.v)
    acts = layers * _div(ab.layer_tp, ab.layer_sp, lay) * in_flight
    if first:
        acts += _div(ab.first_tp, ab.first_sp, lay) * in_flight
    if last:
        acts += _div(ab.last_tp, ab.last_sp, lay)
    return round(acts)


def _temporary(ab: ActBytes, lay: Layout, last: bool, dequantized: int = 0) -> int:
    """Transient buffers at the peak, as planner/estimate/memory.py defines
    them: under full recompute one layer's rematerialised activations, and
    under QLoRA one dequantized base weight (divided by t); on the last
    stage also the 16-bit logits plus the larger of the fp32 logit gradient
    and that working set (vocab-parallel: divided by t)."""
    work = _div(ab.work_tp, ab.work_sp, lay) + dequantized / lay.t
    if not last:
        return round(work)
    shard = lay.t * lay.c
    return round(ab.logits / shard + max(ab.loss_grad / shard, work))


def _communication(pm: PlanModel, lay: Layout) -> int:
    """Communication buffers (docs/plan.md):

    * ZeRO 0-2 with d > 1: two gradient buckets in flight (PyTorch DDP
      ``bucket_cap_mb=25``, double-buffered: Li et al. 2020, "PyTorch
      Distributed", s3.2.3); ``assumptions.ddp_bucket_mib``;
    * ZeRO-3 (and parameter offload): DeepSpeed all-gathers each layer's
      16-bit weights before use and prefetches the next
      (``stage3_prefetch_bucket_size``): two gathered layers plus one
      layer's unsharded gradients before its reduce-scatter;
    * NCCL's internal buffers when the GPU communicates at all
      (``assumptions.nccl_buffer_gib``; NCCL_BUFFSIZE = 4 MiB per channel
      and peer, NCCL environment-variable docs).
    """
    a = pm.spec.assumptions
    out = 0.0
    if lay.zero_stage == 3 or lay.offload == "optimizer+params":
        layer = max(pm.layer_params, pm.counts.embedding) / lay.t
        ts = pm.trainable_split  # gradients of the trainable part only
        grads = max(ts.per_layer, ts.embedding) / lay.t
        wb, gb = pm.weight_bytes_per_param, pm.conv.grad_bytes
        out += layer * (2 * wb + gb) if grads == layer else layer * 2 * wb + grads * gb
    elif lay.d > 1 or lay.offload != "none":
        out += 2 * a.ddp_bucket_mib * MiB
    if lay.gpus > 1:
        out += gib_to_bytes(a.nccl_buffer_gib)
    return round(out)


def stage_memory(pm: PlanModel, lay: Layout, usable: int, first: bool, last: bool) -> GpuMemory:
    params, trainable = pm.stages(lay)[0 if first else 1]
    st = pm.gpu_states(params, lay, trainable)
    ab = pm.act_bytes(lay.micro_batch_size, lay.recompute)
    layers = ceil_div(pm.arch.num_layers, lay.p)
    acts = _stage_activations(ab, lay, layers, first, last)
    temp = _temporary(ab, lay, last, pm.dequantized)
    comm = _communication(pm, lay)
    allocated = st.total + acts + temp + comm
    frag = round(allocated * pm.spec.assumptions.allocator_fragmentation)
    stage = "only" if first and last else ("first" if first else "last")
    return GpuMemory(
        stage, st.weights, st.master_weights, st.gradients, st.optimizer_states,
        acts, temp, comm, frag, usable,
    )  # fmt: skip


def gpu_memory(pm: PlanModel, lay: Layout, usable: int) -> GpuMemory:
    """The worst stage's per-GPU memory under ``lay`` (computed once per
    layout and cached on ``pm``)."""
    key = (lay, usable)
    got = pm.memory_cache.get(key)
    if got is None:
        got = pm.memory_cache[key] = _worst_stage(pm, lay, usable)
    return got


def _worst_stage(pm: PlanModel, lay: Layout, usable: int) -> GpuMemory:
    if lay.p == 1:
        return stage_memory(pm, lay, usable, True, True)
    first = stage_memory(pm, lay, usable, True, False)
    last = stage_memory(pm, lay, usable, False, True)
    return first if first.total >= last.total else last


def states_lower_bound(pm: PlanModel, lay: Layout) -> int:
    """Model states alone on the larger stage: a cheap bound for pruning."""
    return max(pm.gpu_states(x, lay, tr).total for x, tr in pm.stages(lay))
