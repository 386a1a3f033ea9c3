#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install everything the
# notebooks, tests and reproduction need. Called by `make`; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -c 'import sys; assert sys.version_info >= (3, 10), "qkd_nb needs Python >= 3.10"' || exit 1
[ -x .venv/bin/python ] || "$PY" -m venv .venv
PIP=".venv/bin/python -m pip"
$PIP install -q --upgrade pip setuptools wheel
TORCH=torch==2.13.0
if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    $PIP install -q "$TORCH"                       # a GPU is present: the default (CUDA) build
  else
    # No GPU: never pull CUDA wheels. 1) a local CPU build (pip's find-links), 2) PyTorch's CPU
    # index, 3) the registry as configured (only where it serves a CPU build).
    $PIP install -q --no-index "$TORCH" 2>/dev/null \
      || $PIP install -q --timeout 20 --retries 1 "$TORCH" --index-url https://download.pytorch.org/whl/cpu 2>/dev/null \
      || $PIP install -q "$TORCH"
  fi
fi
# The benchmark's peers (qkd_nb.bench; `make test` runs its smoke profile with every peer). torch stays pinned on
# the command line; torchquantum-ng and torchpack go in with --no-deps: their declared dependencies pull
# torchvision, whose wheels replace the CPU torch (qkd_nb.bench stubs the torchvision import instead).
$PIP install -q -e ".[dev,bench,docs]" "$TORCH"   # docs: Sphinx + myst-nb + theme for `make docs` and the site test
$PIP install -q --no-deps torchquantum-ng==0.2.0 torchpack==0.3.1
.venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" \
  || { echo "a bench dependency replaced torch $TORCH: check settings.ini bench_requirements" >&2; exit 1; }
# The site test opens the site in headless Chromium: Debian's `chromium` where none is installed (root only;
# GitHub's Ubuntu runners have google-chrome, which the test uses as well).
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
      || echo "note: could not install chromium; the site test will fail until it is installed"
  else
    echo "note: no chromium found; install it (apt-get install chromium, as root) for the site test"
  fi
fi
# A Jupyter kernel for this environment (JupyterLab from `make lab` uses it; so can any other Jupyter).
.venv/bin/python -m ipykernel install --sys-prefix --name qkd_nb --display-name "Python (qkd_nb)" >/dev/null
echo "environment ready: $(.venv/bin/python -c 'import torch,qiskit; print("torch", torch.__version__, "| qiskit", qiskit.__version__)')"
