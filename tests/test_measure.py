"""planner measure: fake-tensor traces equal real CPU runs, match hand
calculations, and the command works (and fails cleanly without the extra)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.measure.case import MeasureCase
from planner.measure.matrix import GPT, LLAMA, LLAMA_GQA, MIXTRAL

ROOT = Path(__file__).resolve().parent.parent


def test_measure_extra_is_installed_in_ci() -> None:
    """CI installs the extra: the measure tests must run there, not skip."""
    if not os.environ.get("CI"):
        pytest.skip("only enforced in CI")
    import torch  # noqa: F401
    import transformers  # noqa: F401


torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
from planner.measure.trace import trace  # noqa: E402

REAL_CASES = [
    MeasureCase(LLAMA, 24, 2, "fp32", "flash", 0.0, "none"),
    MeasureCase(LLAMA_GQA, 24, 2, "bf16-mixed", "eager", 0.1, "none"),
    MeasureCase(LLAMA, 24, 2, "bf16-autocast", "flash", 0.0, "full"),
    MeasureCase(GPT, 24, 2, "bf16-mixed", "flash", 0.1, "none"),
    MeasureCase(MIXTRAL, 24, 2, "bf16-mixed", "flash", 0.0, "none"),
]


@pytest.mark.parametrize("case", REAL_CASES, ids=lambda c: c.label)
def test_fake_trace_equals_a_real_cpu_run(case: MeasureCase) -> None:
    fake, real = trace(case, fake=True), trace(case, fake=False)
    assert not real.fake and fake.fake
    assert fake.total == real.total
    assert fake.layer_bytes() == real.layer_bytes()
    assert fake.part_bytes() == real.part_bytes()


def test_tiny_llama_fp32_layer_by_hand() -> None:
    """fp32 llama layer with SDPA, by hand from modeling_llama.py:
    two RMSNorms (fp32 input, normed, output: 3 x 4sbh; rsqrt 4sb),
    q, k, v, output (4 x 4sbh), logsumexp 4bas, SwiGLU (4 x 4sbi)."""
    s, b, h, a, i = 24, 2, 64, 4, 160
    sbh = s * b * h
    hand = 2 * (12 * sbh + 4 * s * b) + 16 * sbh + 4 * b * a * s + 16 * s * b * i
    t = trace(MeasureCase(LLAMA, s, b, "fp32", "flash", 0.0, "none"))
    assert t.layer_bytes() == [hand, hand] == [246_912, 246_912]


def test_llama_2_7b_traces_in_seconds_and_matches_hand_figure() -> None:
    """Llama-2-7B (h 4096, i 11008, 32 heads, 32 layers; Touvron et al. 2023,
    table 2 / HF config), b 1, s 4096, bf16 weights, SDPA. Per layer by hand:
    norms 2 x (8sbh + 4sb), q/k/v/out 4 x 2sbh, lse 4as, SwiGLU 4 x 2sbi."""
    from planner.measure import case_from_spec
    from planner.spec import load_spec

    spec = load_spec(str(ROOT / "specs" / "llama-2-7b-finetune.yaml"))
    case = replace(case_from_spec(spec), recompute="none")
    t = trace(case)
    s, h, i, a = 4096, 4096, 11008, 32
    hand = 2 * (8 * s * h + 4 * s) + 8 * s * h + 4 * a * s + 8 * s * i
    assert hand == 763_920_384
    assert t.layer_bytes() == [hand] * 32
    assert t.seconds < 15  # about a second on 2 CPU cores; generous for CI


def test_cli_measure_text_and_json(tmp_path: Path) -> None:
    spec = tmp_path / "m.yaml"
    spec.write_text((ROOT / "tests" / "data" / "measure_tiny_gpt.yaml").read_text())
    runner = CliRunner()
    res = runner.invoke(main, ["measure", str(spec)])
    assert res.exit_code == 0, res.output
    assert "per layer" in res.output and "GiB" in res.output
    assert "dropout masks" in res.output  # names the CPU-vs-CUDA difference
    res = runner.invoke(main, ["measure", str(spec), "--format", "json"])
    data = json.loads(res.output)
    assert data["estimate"]["implementation"] == "hf-transformers"
    assert data["measured"]["total_bytes"] == data["estimate_cpu_kernels"]["total_bytes"]


def test_cli_measure_without_extra_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)  # import fails
    spec = ROOT / "tests" / "data" / "measure_tiny_gpt.yaml"
    res = CliRunner().invoke(main, ["measure", str(spec)])
    assert res.exit_code == 2
    assert "pip install 'planner[measure]'" in res.output


def test_nothing_outside_planner_measure_imports_torch() -> None:
    code = (
        "import pkgutil, importlib, sys, planner\n"
        "for m in pkgutil.walk_packages(planner.__path__, 'planner.'):\n"
        "    torch_modules = ('trace', 'hfmodel', 'step', 'peftmodel')\n"
        "    if m.name not in tuple('planner.measure.' + n for n in torch_modules):\n"
        "        importlib.import_module(m.name)\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
