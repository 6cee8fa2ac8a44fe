"""Golden-file tests for `planner report`: the same spec gives the same bytes
for md, html and svg; the PDF is compared by its extracted text and page
count (the bytes are stable run to run on one machine, which
test_pdf_bytes_are_stable checks, but embedded font subsets depend on the
installed fonts and WeasyPrint version, so other machines may differ).

Each case also asserts what it is about, against hand calculations, so that
a regenerated golden file cannot silently accept a wrong answer.
Regenerate: pytest --update-golden (then review git diff tests/golden).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from planner.report.writer import build, render

ROOT = Path(__file__).resolve().parents[1]
GiB = 2**30


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the report prints the spec path as given


def _render(case: str, formats: tuple[str, ...]) -> dict[str, bytes]:
    return render(build(f"specs/{case}.yaml"), formats).files


def _summary_total(case: str) -> str:
    return build(f"specs/{case}.yaml", charts=False).summary.total


def _pdf_text(data: bytes) -> tuple[str, int]:
    from pypdf import PdfReader

    r = PdfReader(io.BytesIO(data))
    return "\n".join(p.extract_text() for p in r.pages), len(r.pages)


def _check_all(golden, case: str, files: dict[str, bytes]) -> str:  # type: ignore[no-untyped-def]
    for rel, data in files.items():
        if rel.endswith(".pdf"):
            text, pages = _pdf_text(data)
            golden.check(case, "pdf.txt", f"pages: {pages}\n{text}\n")
        else:
            golden.check(case, rel.replace("/", "__"), data)
    return files[f"{case}.md"].decode("utf-8")


def test_seed_7b(golden) -> None:  # type: ignore[no-untyped-def]
    files = _render("seed-7b", ("md", "html", "pdf"))
    md = _check_all(golden, "seed-7b", files)
    # The seed's method 1 by hand (shared/SEED.md): 2P + 2P + 4P for P = 7e9,
    # plus b*s*h*2*L = 32*2048*4096*2*32 bytes of activations.
    simplified = 8 * 7 * 10**9 + 32 * 2048 * 4096 * 2 * 32
    assert f"{simplified / GiB:,.2f} GiB" in md  # 68.15 GiB
    assert "17,179,869,184 bytes" in md and "the article says about 48 GB" in md
    # Offloading Adam's fp32 states: 8 bytes/param = 56 GB (not the seed's 28 GB).
    assert "(56.00 GB)" in md
    # One 80 GB GPU cannot hold 16 bytes/param x 7e9 = 104.3 GiB of states:
    # the plan offloads the optimizer to the CPU.
    assert "CPU offload of optimizer" in md
    text, pages = _pdf_text(files["seed-7b.pdf"])
    assert "Summary for decision makers" in text and _summary_total("seed-7b") in text
    assert "Figure 4." in text  # the charts' captions are in the PDF
    assert pages >= 5


def test_llama_2_7b_finetune(golden) -> None:  # type: ignore[no-untyped-def]
    md = _check_all(golden, "llama-2-7b-finetune", _render("llama-2-7b-finetune", ("md", "html")))
    # 6,738,415,616 parameters x 16 bytes = 100.4 GiB of states > 79 GiB usable:
    # one A100 cannot hold a replica; the node's 8 GPUs share it with ZeRO.
    assert 6_738_415_616 * 16 / GiB > 79
    assert "Train on 8 x NVIDIA A100 SXM4 80GB" in md
    assert re.search(r"ZeRO-[123]", md.split("## Bill of materials")[0])
    assert "Cloud rental vs purchase" in md and "USD 120,000" in md  # 8 x USD 15,000


def test_deadline_missed(golden) -> None:  # type: ignore[no-untyped-def]
    files = _render("llama-3-8b-deadline-missed", ("md", "pdf"))
    md = _check_all(golden, "llama-3-8b-deadline-missed", files)
    assert "INFEASIBLE: no layout meets the requirements" in md
    assert md.index("INFEASIBLE") < md.index("## Summary")  # at the top (issue 12)
    assert "Total to request" not in md and "No money is requested" in md
    # Lower bound by hand: 6 N D FLOPs for N = 8.03e9 (Llama-3-8B), D = 1e12
    # tokens on 16 A100s at 312 TFLOP/s and the catalog's best-case MFU
    # (52%): at least 6*8.03e9*1e12/(16*312e12*0.52)/86400 = 112 days > 14.
    lower = 6 * 8.03e9 * 1e12 / (16 * 312e12 * 0.52) / 86400
    days = float(re.search(r"takes ([\d,.]+) days \\?> max_days 14", md).group(1).replace(",", ""))
    assert days > lower > 14
    assert f"not met: {days - 14:,.1f} days over" in md
    text, _ = _pdf_text(files["llama-3-8b-deadline-missed.pdf"])
    assert "INFEASIBLE: no layout meets the requirements" in " ".join(text.split())


def test_serving_70b_fp16(golden) -> None:  # type: ignore[no-untyped-def]
    case = "llama-2-70b-fp16-serving"
    md = _check_all(golden, case, _render(case, ("md", "html")))
    # By hand: 68,976,648,192 parameters x 2 bytes; KV cache 2 x 80 layers x
    # 8 kv heads x 128 x 2 bytes = 327,680 bytes/token x 16 x 4096 tokens;
    # prefill working set 16 x 3072 tokens x (2h + 3i) x 2 bytes (h = 8192,
    # i = 28672) + fp32 logits 16 x 32000 x 4; 5% fragmentation.
    weights, kv = 68_976_648_192 * 2, 327_680 * 16 * 4096
    act = 16 * 3072 * (2 * 8192 + 3 * 28672) * 2 + 16 * 32000 * 4
    need = (weights + kv + act) * 1.05
    usable = 80 * GiB - GiB  # H100 80 GB (driver: 79.6 GiB) minus the 1 GiB context
    assert need / 2 > 80 * GiB > usable  # two GPUs are not enough
    assert need / 4 < usable
    assert "4 GPUs per replica (tensor parallel 4" in md
    assert f"{kv / GiB:,.2f} GiB" in md  # 20.00 GiB of KV cache


def test_pdf_bytes_are_stable() -> None:
    from planner.report.render import render_pdf

    html = "<html><head><title>t</title></head><body><h1>Stable</h1><p>x</p></body></html>"
    assert render_pdf(html) == render_pdf(html)
