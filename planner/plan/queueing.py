"""Continuous batching under Poisson arrivals: a queueing APPROXIMATION
(analytic, no simulation), per replica.

Each step of a continuous-batching engine (Yu et al. 2022, "Orca", s4;
Kwon et al. 2023) decodes one token for every running sequence and admits
chunks of waiting prompts (chunked prefill, Agrawal et al. 2024,
"Sarathi-Serve"). With arrival rate lambda per replica, prompt P, answer G:

* prefill share rho_p = lambda x prefill(P): the share of each second the
  replica spends on prompt compute;
* decode: with B running sequences a decode step takes tau(B) (the
  roofline, planner.plan.roofline), so TPOT = tau(B) / (1 - rho_p) and, by
  Little's law, B = lambda x G x TPOT; B is the fixed point of that
  equation (iterated; no fixed point below the concurrency limit: the
  replica is overloaded);
* p99 concurrency: the running sequences of an infinite-server system with
  Poisson arrivals are Poisson distributed (M/G/inf, Kleinrock 1975,
  "Queueing Systems" vol. 1 s2; Palm's theorem), normal approximation
  B + 2.326 sqrt(B); p99 TPOT = tau(B99) / (1 - rho_p);
* TTFT: prompts queue FCFS for prefill, an M/D/1 queue whose service is the
  prompt's prefill plus one decode step per chunk of
  ``max_num_batched_tokens`` it rides in; utilisation rho = lambda x S; mean
  wait by Pollaczek-Khinchine W = rho S / (2 (1 - rho)) (Kleinrock 1975
  s5.7), its distribution approximated as exponential given a wait,
  P(wait > x) = rho exp(-x rho / W) (Kingman's heavy-traffic approximation,
  Kingman 1962); TTFT_q = wait_q + S, with the p99 prompt's service for p99.

The approximation ignores preemption and the batch-size variance within
one request's decode; the p99 figures are planning numbers to confirm with
a load test (e.g. vLLM ``benchmarks/benchmark_serving.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.plan.roofline import Replica

Z99 = 2.326  # standard normal 99th percentile
ITERATIONS = 200


@dataclass(frozen=True)
class LoadPoint:
    """Steady state of one replica at one arrival rate."""

    rate: float  # requests per second into this replica
    stable: bool
    reason: str  # why not stable ("" when stable)
    concurrency: float  # mean running sequences
    concurrency_p99: float
    prefill_share: float  # rho_p
    prefill_utilisation: float  # rho of the prefill queue
    ttft_p50: float  # seconds
    ttft_p99: float
    tpot_p50: float
    tpot_p99: float


def _wait_quantile(rho: float, mean_wait: float, q: float) -> float:
    if rho <= 1 - q or mean_wait <= 0:
        return 0.0
    return mean_wait / rho * math.log(rho / (1 - q))


def _unstable(rate: float, reason: str) -> LoadPoint:
    inf = math.inf
    return LoadPoint(rate, False, reason, inf, inf, inf, inf, inf, inf, inf, inf)


def load_point(r: Replica, rate: float, max_concurrency: int) -> LoadPoint:
    """Steady state of replica ``r`` at ``rate`` requests per second (module docstring)."""
    w = r.spec.inference
    assert w is not None
    p, p99, g = w.prompt_mean, w.prompt_p99, w.generated_tokens
    context = p + g / 2  # mean context while decoding
    rho_p = rate * r.prefill_seconds(p)
    if rho_p >= 1:
        return _unstable(rate, f"prefill alone needs {rho_p:.2f} of the replica's time")
    b = rate * g * r.decode_step_seconds(1, context) / (1 - rho_p)
    for _ in range(ITERATIONS):
        nxt = rate * g * r.decode_step_seconds(b, context) / (1 - rho_p)
        if nxt > max_concurrency:
            return _unstable(
                rate,
                f"needs more than {max_concurrency} running sequences (the concurrency limit)",
            )
        done = abs(nxt - b) <= 1e-9 * max(b, 1.0)
        b = nxt
        if done:
            break
    else:
        return _unstable(rate, "decode does not keep up with the arrivals")
    tpot = r.decode_step_seconds(b, context) / (1 - rho_p)
    b99 = min(b + Z99 * math.sqrt(b), float(max_concurrency))
    tpot99 = r.decode_step_seconds(b99, context) / (1 - rho_p)
    chunk = r.eff.max_num_batched_tokens

    def service(tokens: int) -> float:
        return r.prefill_seconds(tokens) + math.ceil(tokens / chunk) * r.decode_step_seconds(
            b, context
        )

    s, s99 = service(p), service(p99)
    rho = rate * s
    if rho >= 1:
        return _unstable(rate, f"the prefill queue is saturated (utilisation {rho:.2f})")
    mean_wait = rho * s / (2 * (1 - rho))  # Pollaczek-Khinchine, deterministic service
    return LoadPoint(
        rate=rate,
        stable=True,
        reason="",
        concurrency=b,
        concurrency_p99=b + Z99 * math.sqrt(b),
        prefill_share=rho_p,
        prefill_utilisation=rho,
        ttft_p50=_wait_quantile(rho, mean_wait, 0.50) + s,
        ttft_p99=_wait_quantile(rho, mean_wait, 0.99) + s99,
        tpot_p50=tpot,
        tpot_p99=tpot99,
    )
