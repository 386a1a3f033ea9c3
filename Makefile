# Two commands do everything on a fresh machine (Python >= 3.10):
#   make reproduce   regenerate every table and figure of the paper into figures/
#   make test        check the notebooks are clean and exported, then run every notebook's tests
# make reproduce shows a live status line on a terminal (notebook, sweep runs done / total, time left);
# QUIET=1 (or a log, or CI) prints one line per notebook only.
SHELL := /bin/bash
BIN := .venv/bin
STAMP := .venv/.installed

.PHONY: env reproduce reproduce-quick reproduce-study test quicktest bench lab export clean-venv

$(STAMP): setup.py settings.ini tools/setup_env.sh
	bash tools/setup_env.sh
	touch $@

env: $(STAMP)

reproduce: env  ## full profile, every experiment notebook, outputs in figures/
	$(BIN)/qkd-reproduce --profile full $(if $(QUIET),--quiet); s=$$?; \
	  $(BIN)/python tools/nb_outputs.py publish && exit $$s   # executed notebooks (those that ran) -> figures/notebooks/

reproduce-study: env  ## larger than the paper (07's study profile: ~40 core-hours): use a cluster, e.g. ARGS='--scheduler tcp://HOST:8786 --param scheduler=tcp://HOST:8786'
	$(BIN)/qkd-reproduce --profile study $(if $(QUIET),--quiet) $(ARGS); s=$$?; \
	  $(BIN)/python tools/nb_outputs.py publish && exit $$s

reproduce-quick: env
	$(BIN)/qkd-reproduce --profile quick $(if $(QUIET),--quiet); s=$$?; \
	  $(BIN)/python tools/nb_outputs.py publish && exit $$s

test: env  ## what CI runs: sync checks + every notebook, slow cells included
	$(BIN)/python tools/run_tests.py --flags slow

quicktest: env  ## the same without the cells flagged slow
	$(BIN)/python tools/run_tests.py

bench: env  ## speed benchmark against every peer (the env has the [bench] extra); PROFILE=smoke|quick|repro (~10 min, what the reproduction runs)|full (the whole grid, hours)
	$(BIN)/python tools/benchmark.py --profile $(or $(PROFILE),quick)

lab: env  ## open the notebooks in JupyterLab (kernel "Python (qkd_nb)")
	$(BIN)/jupyter lab nbs

export: env  ## regenerate the library and README from the notebooks
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean && $(BIN)/python tools/make_readme.py

clean-venv:
	rm -rf .venv

.PHONY: docs site-test outputs outputs-check

docs: env  ## build the documentation site into _site/ (Sphinx + myst-nb: committed outputs, no execution, no network)
	$(BIN)/python tools/build_docs.py

site-test: env  ## build the site, then open every page in headless Chromium (installs Debian's chromium as root)
	$(BIN)/python tools/check_site.py --install

outputs: env  ## execute the library notebooks in place (slow cells included), so they are committed with outputs
	$(BIN)/python tools/nb_outputs.py execute $(NB)

outputs-check: env  ## execute the library notebooks and compare with their committed outputs (writes nothing)
	$(BIN)/python tools/nb_outputs.py check $(NB)
