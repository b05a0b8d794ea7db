#!/usr/bin/env bash
# Create the Python environment used by scripts/torch_fixture.py and
# scripts/bench_pytorch.py (the PyTorch side of the speed comparison).
#
#   scripts/setup-pytorch.sh            # creates/reuses the venv, prints its python
#   PY=$(scripts/setup-pytorch.sh)      # stdout is only the interpreter path
#
# The venv lives outside the repo (default ${XDG_CACHE_HOME:-$HOME/.cache}/mlp/torch-venv,
# override with MLP_TORCH_VENV) because it is several GiB: PyPI's `torch` wheel is
# the CUDA build and pulls nvidia-* wheels. We only use its CPU kernels. Never run
# this in CI.
#
# Idempotent: a stamp file records the pinned requirement set; if it matches and
# the imports work, nothing is downloaded.
set -euo pipefail

VENV="${MLP_TORCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mlp/torch-venv}"
PYTHON="${PYTHON:-python3}"
# Pinned to the versions installed when the fixtures were generated.
REQS=(torch==2.15.0 numpy==2.4.6 safetensors==0.8.0)
STAMP="$VENV/.mlp-requirements"

log() { echo "setup-pytorch: $*" >&2; }

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "${REQS[*]}" ]] \
   && "$VENV/bin/python" -c 'import torch, numpy, safetensors' 2>/dev/null; then
    log "already set up at $VENV"
else
    if [[ ! -x "$VENV/bin/python" ]]; then
        log "creating venv at $VENV"
        mkdir -p "$(dirname "$VENV")"
        "$PYTHON" -m venv "$VENV"
    fi
    log "installing ${REQS[*]} (torch is a multi-GiB download)"
    # pip's output goes to stderr so stdout stays the interpreter path.
    "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input \
        "${REQS[@]}" >&2
    "$VENV/bin/python" -c 'import torch, numpy, safetensors' >&2
    echo "${REQS[*]}" > "$STAMP"
    log "done"
fi

echo "$VENV/bin/python"
