#!/usr/bin/env bash
# Idempotent environment setup for a Debian 12 machine: Debian packages (QGIS, GDAL, rasterio, numpy),
# then .venv (system site-packages, so QGIS/GDAL/numpy come from Debian) with the engine installed
# editable. Silent and fast when the stamp says nothing changed; `make setup` calls it.
set -euo pipefail

cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.r2cnn-setup-stamp"
PY_SYSTEM=/usr/bin/python3
# Debian packages the engine and the headless QGIS tests need (numpy/GDAL/rasterio at Debian's versions).
DEB_PACKAGES=(python3-venv python3-pip python3-numpy python3-gdal gdal-bin python3-rasterio python3-pil python3-scipy
              python3-matplotlib python3-qgis qgis-providers)

log() { printf 'setup: %s\n' "$*"; }

# Run a command with its output in $VENV/setup.log; show that log only when the command fails.
quietly() {
    if ! "$@" >"$VENV/setup.log" 2>&1; then
        cat "$VENV/setup.log" >&2
        log "FAILED: $* (log above, also in $VENV/setup.log)"
        exit 1
    fi
}

have_gpu() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; }

if have_gpu; then ORT_FLAVOUR=gpu; else ORT_FLAVOUR=cpu; fi

# The stamp is keyed on everything that changes what pip would install.
stamp_key() {
    cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1
    echo "onnxruntime=$ORT_FLAVOUR"
}

missing_debs() {
    local pkg
    for pkg in "${DEB_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
            printf '%s\n' "$pkg"
        fi
    done
}

# Fast path: nothing to do.
if [[ -x "$VENV/bin/python" && -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$(stamp_key)" ]] \
        && [[ -z "$(missing_debs)" ]]; then
    exit 0
fi

mapfile -t MISSING < <(missing_debs)
if ((${#MISSING[@]})); then
    log "installing Debian packages: ${MISSING[*]}"
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${MISSING[@]}" >/dev/null
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating $VENV (with system site-packages)"
    "$PY_SYSTEM" -m venv --system-site-packages "$VENV"
fi

PIP=("$VENV/bin/pip" install --quiet --disable-pip-version-check -c constraints.txt)

# torch==2.13.0: take whatever wheel pip can already see (this machine's find-links); a CPU-only machine
# that has none gets the CPU build from the PyTorch index instead of PyPI's multi-GB CUDA build.
TORCH_PIN=$("$PY_SYSTEM" -c 'import tomllib; d = tomllib.load(open("pyproject.toml", "rb"));
print(next(r for r in d["project"]["dependencies"] if r.startswith("torch")))')
if [[ "$ORT_FLAVOUR" == cpu ]] \
        && [[ "$("$VENV/bin/python" -c "from importlib.metadata import version; print(version('torch'))" \
                 2>/dev/null | cut -d+ -f1)" != "${TORCH_PIN#torch==}" ]] \
        && ! "$VENV/bin/pip" install --quiet --dry-run --no-index --no-deps "$TORCH_PIN" >/dev/null 2>&1; then
    PIP+=(--extra-index-url https://download.pytorch.org/whl/cpu)
fi

log "installing the engine into $VENV (pip install -e .[test,openvino])"
quietly "${PIP[@]}" -e '.[test,openvino]'

if [[ "$ORT_FLAVOUR" == gpu ]]; then
    # onnxruntime and onnxruntime-gpu share the `onnxruntime` module: drop the CPU one, then
    # (re)install the GPU one over whatever files the CPU uninstall removed.
    log "NVIDIA GPU found: replacing onnxruntime with onnxruntime-gpu"
    quietly "$VENV/bin/pip" uninstall --quiet -y onnxruntime
    quietly "${PIP[@]}" --force-reinstall --no-deps onnxruntime-gpu
    quietly "${PIP[@]}" onnxruntime-gpu
fi

quietly "$VENV/bin/r2cnn" --help
stamp_key >"$STAMP"
log "done ($VENV/bin/r2cnn is ready)"
