#!/usr/bin/env bash
# Convert a jupytext percent script into a clean notebook: tools/nbgen.sh scratch/NN_name.py nbs/NN_name.ipynb
set -euo pipefail
src=$1; dst=$2
.venv/bin/jupytext --to ipynb -o "$dst" "$src" -q
.venv/bin/python - "$dst" <<'PY'
import sys, nbformat as n
p = sys.argv[1]; nb = n.read(p, 4)
nb.metadata = {'kernelspec': {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'}}
n.write(nb, p)
PY
.venv/bin/nbdev_clean --fname "$dst"
