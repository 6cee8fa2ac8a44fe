"""Step time, run time and cost of a layout (docs/plan.md, "Time model").

step = compute + bubble + tensor-parallel + pipeline + exposed data-parallel
       + exposed ZeRO-3 gathers + offload

* compute = hardware FLOPs per step (planner.estimate.compute: model FLOPs
  plus what recomputation repeats) / (GPUs x dense peak x MFU). MFU is the
  steady-state share of peak the kernels sustain (the cluster's or the GPU
  catalog's low/expected/high, an assumption).
  Under QLoRA (and int8 bases) compute also holds the dequantization
  kernels: each pass over the layers (forward, backward, and the
  recomputed forward under full recompute) reads every quantized weight
  and writes its 16-bit copy (bitsandbytes dequantize + F.linear for
  training-sized inputs; docs/assumptions.md), at
  ``DEQUANT_BANDWIDTH_SHARE`` of the GPU's HBM bandwidth, per micro-batch.
* bubble = compute x (p-1)/(v*m): the 1F1B bubble fraction of the whole
  step is (p-1)/(m+p-1), interleaved (p-1)/(v*m+p-1) (Narayanan et al.
  2021, s2.2.1-2.2.2).
* tensor parallel: Megatron-LM does 2 all-reduces in the forward and 2 in
  the backward of each layer over b*s*h activations (Shoeybi et al. 2019,
  s3, Figure 4; sequence parallelism replaces each by a reduce-scatter plus
  an all-gather of the same volume, Korthikanti et al. 2022 s4.2.2); full
  recompute repeats the forward two. Ring cost 2(t-1)/t x bytes / bandwidth
  (Patarasuk & Yuan 2009; NCCL), NVLink when t <= nvlink_domain_gpus, else
  the inter-node network; not overlapped (conservative).
* pipeline: each micro-batch sends b*s*h activations forward and their
  gradients back per stage boundary (x v interleaved; scatter/gather divides
  by t, Narayanan et al. 2021 s4.1).
* data parallel: all-reduce of the gradients 2(d-1)/d x G / bandwidth (ZeRO
  0); reduce-scatter of G plus all-gather of the 16-bit weights W (ZeRO 1-2;
  same volume, ZeRO s7.1); ZeRO-3 gathers W before each micro-batch's
  forward and backward (ZeRO s7.2: 1.5x the baseline volume per step at
  m = 1). Gradient reduction overlaps the last micro-batch's backward by
  ``assumptions.dp_overlap`` (PyTorch DDP buckets, Li et al. 2020 s3.2.3);
  ZeRO-3's prefetched gathers overlap the whole compute by the same share.
  Hybrid sharding (``zero_shard_group`` z < d): the reduce-scatter and
  gathers run inside each shard group (NVLink when the group's t x c x z
  GPUs fit in a node) and the gradient shards are all-reduced across the
  d / z replicas, 2(r-1)/r x G / z (PyTorch FSDP HYBRID_SHARD; Zhang et al.
  2022, MiCS, s3).
* offload: 16-bit gradients to the host and updated 16-bit weights back over
  PCIe, and the CPU Adam step at ``assumptions.cpu_adam_params_per_second``
  (Ren et al. 2021, ZeRO-Offload s4); parameter offload also streams the
  weights in for every micro-batch's forward and backward.

Bandwidths are the catalog's per-GPU unidirectional figures x
``assumptions.bandwidth_efficiency``. Run time: steady = steps x step;
budgeted = steady / goodput (restarts, evaluation, stalls), x (1 +
``cluster.pricing.interruption_overhead``) on spot; the range
pairs MFU high with goodput_high and MFU low with goodput_low.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.catalog import calibration
from planner.estimate.compute import Flops
from planner.plan.layout import Layout
from planner.plan.memory import PlanModel, ceil_div
from planner.spec.model import ClusterChoice, Spec
from planner.units import SECONDS_PER_DAY, SECONDS_PER_HOUR

# ASSUMPTION: an elementwise dequantize kernel streams at 70% of peak HBM
# bandwidth (the figure planner assumes for decode steps,
# assumptions.decode_bandwidth_efficiency's default); not measured.
DEQUANT_BANDWIDTH_SHARE = 0.7


def dequantize_seconds(pm: PlanModel, cl: ClusterChoice, lay: Layout) -> float:
    """Dequantization time per step on one GPU (module docstring)."""
    per_pass = pm.trainable.dequantize_pass_bytes()
    if not per_pass:
        return 0.0
    passes = 3 if lay.recompute == "full" else 2
    share = ceil_div(pm.arch.num_layers, lay.p) / pm.arch.num_layers / lay.t
    bandwidth = cl.gpu.memory_bandwidth_gb_s * 1e9 * DEQUANT_BANDWIDTH_SHARE
    return max(lay.num_microbatches, 1) * passes * per_pass * share / bandwidth


@dataclass(frozen=True)
class StepTime:
    compute: float
    bubble: float
    tensor_parallel: float
    pipeline: float
    data_parallel: float  # exposed part
    zero3_gather: float  # exposed part
    offload: float
    mfu: float

    @property
    def total(self) -> float:
        return (
            self.compute + self.bubble + self.tensor_parallel + self.pipeline
            + self.data_parallel + self.zero3_gather + self.offload
        )  # fmt: skip


def _ring(n: int, nbytes: float, bw: float) -> float:
    """Ring reduce-scatter + all-gather (= all-reduce): 2(n-1)/n x bytes / bw."""
    return 0.0 if n <= 1 else 2 * (n - 1) / n * nbytes / bw


def _bandwidths(cl: ClusterChoice, lay: Layout, eff: float) -> tuple[float, ...]:
    """(tensor-parallel, pipeline, data-parallel, ZeRO shard group) bytes/s
    per GPU. Ranks are ordered tensor, context, data, pipeline (Megatron-LM's
    default order), so a shard group spans t x c x z neighbouring GPUs."""
    g = cl.gpu
    intra, inter = g.intra_node_gb_s * 1e9 * eff, g.inter_node_gb_s * 1e9 * eff
    domain = min(cl.gpus_per_node, g.nvlink_domain_gpus)
    tp = intra if lay.t <= g.nvlink_domain_gpus else inter
    pp = intra if lay.t * lay.p * lay.c <= domain else inter
    dp = intra if lay.gpus <= domain else inter
    shard = intra if lay.t * lay.c * lay.z <= domain else dp
    return tp, pp, dp, shard


def step_time(pm: PlanModel, cl: ClusterChoice, lay: Layout, flops: Flops, mfu: float) -> StepTime:
    a, s, arch = pm.spec.assumptions, pm.training.sequence_length, pm.arch
    conv, m = pm.conv, max(lay.num_microbatches, 1)
    tokens = lay.global_batch_size * s
    compute = (
        flops.hardware_per_token
        * tokens
        / (lay.gpus * cl.gpu.compute_peak(conv.compute_dtype) * mfu)
    ) + dequantize_seconds(pm, cl, lay)
    bubble = compute * (lay.p - 1) / (lay.v * m)
    bw_tp, bw_pp, bw_dp, bw_z = _bandwidths(cl, lay, a.bandwidth_efficiency)
    act = lay.micro_batch_size * (s / lay.c) * arch.hidden_size * conv.activation_bytes
    layers = ceil_div(arch.num_layers, lay.p)
    n_ar = 6 if lay.recompute == "full" else 4
    tp = m * layers * n_ar * _ring(lay.t, act, bw_tp)
    pp = 2 * m * lay.v * act / lay.t / bw_pp if lay.p > 1 else 0.0
    params, trainable = max(pm.stage_params(lay)), max(pm.stage_trainable(lay))
    # Only the trainable set has gradients to reduce and updated weights to
    # gather (ZeRO 1-2); ZeRO-3 gathers every weight for the forward pass.
    grads, weights = trainable * conv.grad_bytes, params * pm.weight_bytes_per_param
    updated = trainable * conv.weight_bytes
    backward_one = compute * 2 / 3 / m
    dp = z3 = 0.0
    if lay.d > 1:
        z, replicas = lay.z, lay.d // lay.z
        if lay.zero_stage == 0:
            dp_comm = _ring(lay.d, grads, bw_dp)
        elif lay.zero_stage == 3:  # reduce-scatter in the shard group
            dp_comm = _ring(z, grads, bw_z) / 2
        else:  # reduce-scatter of gradients + all-gather of updated weights
            dp_comm = (_ring(z, grads, bw_z) + _ring(z, updated, bw_z)) / 2
        if lay.zero_stage and replicas > 1:  # hybrid: all-reduce shards across replicas
            dp_comm += _ring(replicas, grads / z, bw_dp)
        dp = max(0.0, dp_comm - a.dp_overlap * backward_one)
        if lay.zero_stage == 3:
            z3 = max(0.0, m * _ring(z, weights, bw_z) - a.dp_overlap * compute)
    off = _offload(pm, cl, lay, params, trainable, m)
    return StepTime(compute, bubble, tp, pp, dp, z3, off, mfu)


def _offload(
    pm: PlanModel, cl: ClusterChoice, lay: Layout, params: float, trainable: float, m: int
) -> float:
    if lay.offload == "none":
        return 0.0
    a, conv = pm.spec.assumptions, pm.conv
    pcie = cl.gpu.pcie_gb_s * 1e9 * a.bandwidth_efficiency
    shard = trainable / lay.z  # gradients down, updated weights up, CPU Adam
    out = shard * (conv.grad_bytes + conv.weight_bytes) / pcie
    out += shard / a.cpu_adam_params_per_second
    if lay.offload == "optimizer+params":
        out += 2 * m * (params / lay.z) * pm.weight_bytes_per_param / pcie
    return out


@dataclass(frozen=True)
class RunTime:
    """One end of the range (low / expected / high) for a whole run."""

    step: StepTime
    steps: float
    gpus: int
    tokens_per_second: float
    steady_seconds: float
    budgeted_seconds: float
    price_per_gpu_hour: float | None
    term_hours: float | None = None  # reserved: whole terms are paid (planner/pricing.py)

    @property
    def days(self) -> float:
        return self.budgeted_seconds / SECONDS_PER_DAY

    @property
    def gpu_hours(self) -> float:
        return self.gpus * self.budgeted_seconds / SECONDS_PER_HOUR

    @property
    def gpu_hours_steady(self) -> float:
        return self.gpus * self.steady_seconds / SECONDS_PER_HOUR

    @property
    def billed_gpu_hours(self) -> float:
        """GPU-hours paid for: the budgeted ones, or whole reserved terms."""
        if self.term_hours is None:
            return self.gpu_hours
        wall = self.budgeted_seconds / SECONDS_PER_HOUR
        return self.gpus * max(1, math.ceil(wall / self.term_hours - 1e-9)) * self.term_hours

    @property
    def usd(self) -> float | None:
        p = self.price_per_gpu_hour
        return None if p is None else self.billed_gpu_hours * p


def run_time(
    pm: PlanModel, cl: ClusterChoice, lay: Layout, flops: Flops, mfu: float, goodput: float
) -> RunTime:
    st = step_time(pm, cl, lay, flops, mfu)
    tokens_per_step = lay.global_batch_size * pm.training.sequence_length
    steps = pm.training.tokens / tokens_per_step
    steady = steps * st.total
    return RunTime(
        step=st,
        steps=steps,
        gpus=lay.gpus,
        tokens_per_second=tokens_per_step / st.total,
        steady_seconds=steady,
        # spot: restarts after interruptions add GPU time (cluster.pricing)
        budgeted_seconds=steady / goodput * (1 + cl.pricing.interruption_overhead),
        price_per_gpu_hour=cl.price_per_gpu_hour,
        term_hours=cl.pricing.term_hours,
    )


def run_range(pm: PlanModel, cl: ClusterChoice, lay: Layout, flops: Flops) -> dict[str, RunTime]:
    """low = fastest (high MFU, high goodput), high = slowest (low MFU, low
    goodput). The goodput range is fitted on published runs so that about 80%
    of them fall inside (benchmarks/calibrate.py, docs/accuracy.md)."""
    a = pm.spec.assumptions
    return {
        "low": run_time(pm, cl, lay, flops, cl.mfu.high, a.goodput_high),
        "expected": run_time(pm, cl, lay, flops, cl.mfu.expected, a.goodput),
        "high": run_time(pm, cl, lay, flops, cl.mfu.low, a.goodput_low),
    }


def range_meaning(spec: Spec) -> str:
    """What the low-high range means, in one sentence for the reader: with
    the calibrated goodput range, how many published runs fell inside such a
    range (leave-one-out, docs/accuracy.md); otherwise that the spec set it."""
    a, cal = spec.assumptions, calibration()
    fitted = (a.goodput, a.goodput_low, a.goodput_high) == (
        cal["goodput"], cal["goodput_low"], cal["goodput_high"]
    )  # fmt: skip
    ends = (
        f"the range pairs high MFU with goodput {a.goodput_high:.0%} and low MFU"
        f" with goodput {a.goodput_low:.0%}"
    )
    if not fitted:
        return f"{ends} (set by the spec, not the calibrated defaults)."
    return (
        f"{ends}; {cal['inside']} of {cal['runs']} published training runs fell inside"
        " such a range when each was predicted from the others (docs/accuracy.md)."
    )
