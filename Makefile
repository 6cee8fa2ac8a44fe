# `make help` lists the targets.
PY ?= .venv/bin/python
# The comparison example, in the order tests/test_compare.py renders it.
COMPARE = $(foreach g,a100 h100 h200,specs/compare/llama-3-70b-$(g).yaml specs/compare/llama-3-70b-$(g)-reserved.yaml specs/compare/llama-3-70b-$(g)-owned.yaml)

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/ -/'

install:  ## create .venv with the package, test tools and the measure extra
	python3 -m venv .venv && .venv/bin/pip install "torch==2.13.0" -e ".[test,measure]"

test:  ## run the test suite (what CI runs)
	.venv/bin/pytest

lint:  ## ruff lint and format check, mypy on the package
	.venv/bin/ruff check planner tests benchmarks && .venv/bin/ruff format --check planner tests benchmarks
	.venv/bin/mypy planner

reports:  ## regenerate reports/ from specs/ (and the comparison of specs/compare/)
	.venv/bin/planner report specs/*.yaml -o reports || test $$? -eq 1  # exit 1: an example is infeasible on purpose
	.venv/bin/planner compare $(COMPARE) -o reports -f md,html,pdf,xlsx

golden:  ## regenerate the golden files under tests/golden (review with git diff)
	.venv/bin/pytest tests --update-golden -q

benchmarks:  ## print the benchmark figures
	$(PY) benchmarks/plan_search.py && $(PY) benchmarks/report_timing.py

.PHONY: help install test lint reports golden benchmarks
