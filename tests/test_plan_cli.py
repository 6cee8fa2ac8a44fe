"""`planner plan` and `planner rules` on the command line."""

from __future__ import annotations

import json

from click.testing import CliRunner

from planner.cli import main


def test_plan_json_keys() -> None:
    r = CliRunner().invoke(main, ["plan", "specs/seed-7b.yaml", "--format", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    p = d["plan"]
    for k in ("gpus", "nodes", "gpu", "tensor_parallel", "pipeline_parallel", "data_parallel",
              "zero_stage", "recompute", "offload", "micro_batch_size", "fits"):  # fmt: skip
        assert k in p
    mem = p["memory_per_gpu"]
    parts = ("weights", "master_weights", "gradients", "optimizer_states", "activations", "other")
    assert all(isinstance(mem[k], int) for k in (*parts, "total"))
    assert mem["total"] == sum(mem[k] for k in parts)
    assert isinstance(p["usable_memory_per_gpu"], int)
    for k in ("step_seconds", "days", "gpu_hours", "gpu_hours_steady", "tokens_per_second"):
        assert k in d["time"]
    assert d["time"]["gpu_hours"] > d["time"]["gpu_hours_steady"]
    assert d["cost"]["usd_low"] <= d["cost"]["usd"] <= d["cost"]["usd_high"]
    assert {"id", "severity", "message"} <= set(d["findings"][0])
    assert isinstance(d["alternatives"], list) and isinstance(d["near_misses"], list)


def test_plan_text() -> None:
    r = CliRunner().invoke(main, ["plan", "specs/seed-7b.yaml"])
    assert r.exit_code == 0, r.output
    assert "REC-004" in r.output and "GiB" in r.output


def test_rules_list_and_explain() -> None:
    r = CliRunner().invoke(main, ["rules"])
    assert r.exit_code == 0 and "REC-001" in r.output and "REC-010" in r.output
    r = CliRunner().invoke(main, ["rules", "REC-004"])
    assert r.exit_code == 0 and "Rajbhandari" in r.output
    r = CliRunner().invoke(main, ["rules", "REC-999"])
    assert r.exit_code != 0
