#!/usr/bin/env bash
# Side-by-side speed comparison of mlp and PyTorch on this machine (issue 7).
#
#   scripts/compare.sh                      # threads 1 and 2, models A,B,C,T, batches 32,256
#   scripts/compare.sh --threads 1 --quick  # smoke test (1 timed epoch, short warm-ups)
#   scripts/compare.sh --threads 1 --models A,T --repeats 5
#
# For each thread count it runs our harness (benches/compare.rs, release build) and then
# scripts/bench_pytorch.py with the same models, batch sizes, repeats and thread count on
# the same kind of synthetic data, and prints one table: epoch seconds (median of the
# timed epochs, warm-up excluded), single-step times, single-sample latency and
# 10,000-sample prediction time, with PyTorch/ours ratios (above 1: we are faster).
# Raw JSON of both sides stays in $OUT (default target/compare/). Never run in CI: it
# needs the multi-GiB PyTorch venv (scripts/setup-pytorch.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS="1,2"
PASS=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --threads) THREADS="$2"; shift 2 ;;
        --models|--batch-sizes|--repeats) PASS+=("$1" "$2"); shift 2 ;;
        --quick) PASS+=("$1"); shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

PY=$(scripts/setup-pytorch.sh)
OUT="${OUT:-${CARGO_TARGET_DIR:-target}/compare}"
mkdir -p "$OUT"
echo "compare: building the release harness" >&2
cargo bench --bench compare --no-run >&2
# The harness binary: ask cargo where it put it rather than guess the hash.
BIN=$(cargo bench --bench compare --no-run --message-format=json 2>/dev/null \
      | "$PY" -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "compare" and m.get("executable"):
        print(m["executable"])')

FILES=()
for t in ${THREADS//,/ }; do
    echo "compare: $t thread(s): mlp (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    "$BIN" --threads "$t" "${PASS[@]}" > "$OUT/mlp-${t}t.json"
    echo "compare: $t thread(s): PyTorch (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    "$PY" scripts/bench_pytorch.py --threads "$t" "${PASS[@]}" > "$OUT/torch-${t}t.json"
    FILES+=("$OUT/mlp-${t}t.json" "$OUT/torch-${t}t.json")
done

"$PY" - "${FILES[@]}" <<'PYEOF'
import json, sys

def f(v, d=3):
    return "-" if v is None else f"{v:.{d}f}"

def ratio(torch, ours):
    return "-" if not torch or not ours else f"{torch / ours:.2f}x"

pairs = [(json.load(open(a)), json.load(open(b))) for a, b in zip(sys.argv[1::2], sys.argv[2::2])]
m = pairs[0][1]["machine"]
print(f"machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']} ({m['cpu_capability']}), "
      f"mlp kernel path: {pairs[0][0]['machine']['kernel_isa']}")
for ours, torch in pairs:
    t = ours["machine"]["threads"]
    print(f"{t} thread(s) (mlp's kernel uses {ours['machine']['kernel_threads']}): load average mlp {ours['machine']['loadavg']} -> {ours['machine']['loadavg_after']}, "
          f"PyTorch start {torch['machine']['loadavg']}; repeats {ours['config']['repeats']}"
          f"{' (quick)' if ours['config']['quick'] else ''}")
print()
print(f"| model | batch | threads | mlp epoch s | PyTorch epoch s | ratio | mlp step us | PyTorch step us | ratio |")
print(f"|---|---|---|---|---|---|---|---|---|")
for ours, torch in pairs:
    theirs = {(r["model"], r["batch"]): r for r in torch["results"]}
    for r in ours["results"]:
        p = theirs.get((r["model"], r["batch"]), {})
        print(f"| {r['model']} | {r['batch']} | {r['threads']} | {f(r['epoch_s'])} | {f(p.get('epoch_s'))} | "
              f"{ratio(p.get('epoch_s'), r['epoch_s'])} | {f(r['step_us'], 1)} | {f(p.get('step_us'), 1)} | "
              f"{ratio(p.get('step_us'), r['step_us'])} |")
print()
print("| prediction, model A | threads | mlp | PyTorch | ratio |")
print("|---|---|---|---|---|")
for ours, torch in pairs:
    a, b = ours.get("predict"), torch.get("predict")
    if a and b:
        t = ours["machine"]["threads"]
        print(f"| one sample (us) | {t} | {f(a['single_us'], 1)} | {f(b['single_us'], 1)} | {ratio(b['single_us'], a['single_us'])} |")
        print(f"| 10,000 in batches of 1,000 (ms) | {t} | {f(a['batch10k_ms'], 1)} | {f(b['batch10k_ms'], 1)} | {ratio(b['batch10k_ms'], a['batch10k_ms'])} |")
PYEOF
