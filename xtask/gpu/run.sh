#!/usr/bin/env bash
# Runs on a lent NVIDIA machine (or here, over lavapipe) the bundle that `cargo xtask gpu-pack`
# built: the GPU-path suite, each example for one short epoch, and the bench (W1-W4) on the
# wgpu device beside flex. No cargo, no network: prebuilt, stripped binaries from `.gpu/`.
#
#   device tool:  run(command="bash xtask/gpu/run.sh", carry=[".gpu"], timeout_s=540)
#   here:         bash xtask/gpu/run.sh --quick        (lavapipe: a smoke run of the same steps)
#
# Writes $OUT/gpu-report.txt (every step's output and status) and $OUT/bench.json.
set -u
cd "$(dirname "$0")/../.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
report="$OUT/gpu-report.txt"
: >"$report"
say() { echo "$*" | tee -a "$report"; }

# Vulkan: the loader from the carried Debian packages where the machine has none (the device
# tool's README), pointed at NVIDIA's driver where it is installed.
if ! ldconfig -p | grep -q libvulkan.so.1 && ls .gpu/debs/*.deb >/dev/null 2>&1; then
    for f in .gpu/debs/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES="$icd"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
export CORTEX_DATA_DIR="$PWD/crates/cortex-data/data"
export RUST_BACKTRACE=1
command -v nvidia-smi >/dev/null && nvidia-smi -L | tee -a "$report"

bin=$(mktemp -d)
xz -dc .gpu/bundle.tar.xz | tar -C "$bin" -xf - || { say "cannot unpack .gpu/bundle.tar.xz"; exit 2; }
cat .gpu/manifest.txt >>"$report" 2>/dev/null

failures=0
step() { # step NAME SECONDS COMMAND...
    local name=$1 limit=$2
    shift 2
    say "== $name: $*"
    local t0=$SECONDS
    timeout "$limit" "$@" >>"$report" 2>&1
    local rc=$?
    say "== $name: exit $rc in $((SECONDS - t0)) s"
    [ $rc -eq 0 ] || failures=$((failures + 1))
}

if [ $quick = 1 ]; then limit=200; windows=--quick; else limit=4000; windows=""; fi
step "GPU-path suite" 240 "$bin/gpu_path" --test-threads=1
for example in linear_regression mlp cnn rnn; do
    args=(--device wgpu --epochs 1 --quiet)
    [ "$example" = linear_regression ] || args+=(--limit "$limit")
    step "example $example" 120 "$bin/$example" "${args[@]}"
done
step "bench" 300 env RAYON_NUM_THREADS=2 "$bin/cortex-bench" --backend wgpu,flex $windows --json "$OUT/bench.json"
say "== gpu run: $failures failed step(s)"
grep -E "^W[0-9]" "$report" | sed 's/^/   /'
exit $((failures > 0))
