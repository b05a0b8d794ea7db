#!/usr/bin/env bash
# Side-by-side speed comparison of mlp and PyTorch on this machine (issue 7).
#
#   scripts/compare.sh                      # threads 1 and 2, models A,B,C,T, batches 32,256
#   scripts/compare.sh --threads 1 --quick  # smoke test (1 timed epoch, short warm-ups)
#   scripts/compare.sh --threads 1 --models A,T --repeats 5
#   scripts/compare.sh --runs 3 --real      # medians of 3 runs; adds epochs on the real data
#
# For each thread count it runs our harness (benches/compare.rs, release build) and then
# scripts/bench_pytorch.py with the same models, batch sizes, repeats and thread count on
# the same kind of synthetic data, and prints one table: epoch seconds (median of the
# timed epochs, warm-up excluded), single-step times, single-sample latency and
# 10,000-sample prediction time (models A and B), with PyTorch/ours ratios (above 1: we
# are faster), then each side at its own best thread count. --runs N repeats the whole
# comparison N times, interleaved, and reports medians. --real adds epochs of Model::fit
# on the real Fashion-MNIST (A at batch 32, C at batch 256; PyTorch reads the same files).
# Raw JSON of both sides stays in $OUT (default target/compare/). Never run in CI: it
# needs the multi-GiB PyTorch venv (scripts/setup-pytorch.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS="1,2"
RUNS=1
REAL=0
PASS=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --threads) THREADS="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --real) REAL=1; shift ;;
        --models|--batch-sizes|--repeats) PASS+=("$1" "$2"); shift 2 ;;
        --quick) PASS+=("$1"); shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

PY=$(scripts/setup-pytorch.sh)
OUT="${OUT:-${CARGO_TARGET_DIR:-target}/compare}"
mkdir -p "$OUT"
rm -f "$OUT"/mlp-*.json "$OUT"/torch-*.json
echo "compare: building the release harness" >&2
cargo bench --bench compare --no-run >&2
# The harness binary: ask cargo where it put it rather than guess the hash.
BIN=$(cargo bench --bench compare --no-run --message-format=json 2>/dev/null \
      | "$PY" -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "compare" and m.get("executable"):
        print(m["executable"])')

OURS_REAL=()
THEIRS_REAL=()
if [[ $REAL == 1 ]]; then
    # Both sides read the same files: wherever the library finds (or downloads) them.
    if DIR=$("$BIN" --locate-real); then
        OURS_REAL=(--real)
        THEIRS_REAL=(--real-data "$DIR")
    else
        echo "compare: no Fashion-MNIST found (MLP_DATA_DIR, the cache): real-data rows skipped" >&2
    fi
fi

FILES=()
for r in $(seq "$RUNS"); do
    for t in ${THREADS//,/ }; do
        echo "compare: run $r, $t thread(s): mlp (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
        "$BIN" --threads "$t" "${PASS[@]}" "${OURS_REAL[@]}" > "$OUT/mlp-${t}t-$r.json"
        echo "compare: run $r, $t thread(s): PyTorch (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
        "$PY" scripts/bench_pytorch.py --threads "$t" "${PASS[@]}" "${THEIRS_REAL[@]}" > "$OUT/torch-${t}t-$r.json"
        FILES+=("$OUT/mlp-${t}t-$r.json" "$OUT/torch-${t}t-$r.json")
    done
done

"$PY" - "${FILES[@]}" <<'PYEOF'
import json, statistics, sys

def f(v, d=3):
    return "-" if v is None else f"{v:.{d}f}"

def ratio(torch, ours):
    return "-" if not torch or not ours else f"{torch / ours:.2f}x"

def med(vs):
    vs = [v for v in vs if v is not None]
    return statistics.median(vs) if vs else None

pairs = [(json.load(open(a)), json.load(open(b))) for a, b in zip(sys.argv[1::2], sys.argv[2::2])]
m = pairs[0][1]["machine"]
print(f"machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']} ({m['cpu_capability']}), "
      f"mlp kernel path: {pairs[0][0]['machine']['kernel_isa']}")
runs = {}
for ours, torch in pairs:
    t = ours["machine"]["threads"]
    runs.setdefault(t, []).append((ours, torch))
    print(f"{t} thread(s) (mlp's kernel uses {ours['machine']['kernel_threads']}): load average mlp "
          f"{ours['machine']['loadavg']} -> {ours['machine']['loadavg_after']}, "
          f"PyTorch start {torch['machine']['loadavg']}; repeats {ours['config']['repeats']}"
          f"{' (quick)' if ours['config']['quick'] else ''}")
n = len(next(iter(runs.values())))
print()
print(f"Medians over {n} run(s) of each side; ratio = PyTorch time / ours (above 1: mlp is faster).")
print()

def rows(side, t):
    """(model, batch) -> {metric: median over runs}."""
    out = {}
    for pair in runs[t]:
        for r in pair[side]["results"]:
            out.setdefault((r["model"], r["batch"]), []).append(r)
    return {k: {m: med([r.get(m) for r in v])
                for m in ("epoch_s", "step_us", "epoch_steps", "bare_epoch_s")}
            for k, v in out.items()}

def preds(side, t):
    out = {}
    for pair in runs[t]:
        for p in pair[side].get("predict") or []:
            out.setdefault(p["model"], []).append(p)
    return {k: {m: med([p[m] for p in v]) for m in ("single_us", "batch10k_ms")} for k, v in out.items()}

print("| model | batch | threads | mlp epoch s | PyTorch epoch s | ratio | mlp step us | PyTorch step us | ratio |")
print("|---|---|---|---|---|---|---|---|---|")
best = {}
for t in runs:
    ours, theirs = rows(0, t), rows(1, t)
    for key, r in ours.items():
        p = theirs.get(key, {})
        print(f"| {key[0]} | {key[1]} | {t} | {f(r['epoch_s'])} | {f(p.get('epoch_s'))} | "
              f"{ratio(p.get('epoch_s'), r['epoch_s'])} | {f(r['step_us'], 1)} | {f(p.get('step_us'), 1)} | "
              f"{ratio(p.get('step_us'), r['step_us'])} |")
        for side, v in (("ours", r), ("theirs", p)):
            for metric in ("epoch_s", "step_us"):
                if v.get(metric) is not None:
                    b = best.setdefault((key, metric, side), v[metric])
                    best[(key, metric, side)] = min(b, v[metric])
print()
print("`Model::fit` against the bare step loop (ours). \"bare epoch\": as many steps on one fixed")
print("batch, timed as a whole right after each timed epoch (medians); \"steps x median step\":")
print("the step column's median step (500 steps, the slow ones dropped) times the epoch's steps.")
print()
print("| model | batch | threads | fit epoch s | bare epoch s | fit overhead | steps x median step s | vs that |")
print("|---|---|---|---|---|---|---|---|")
for t in runs:
    ours = rows(0, t)
    for key, r in ours.items():
        steps, fit, bare = r.get("epoch_steps"), r.get("epoch_s"), r.get("bare_epoch_s")
        if fit is None or not steps or bare is None:
            continue
        step = ours.get((key[0].removesuffix(" real"), key[1]), {}).get("step_us")
        med_s = steps * step / 1e6 if step else None
        vs = f"{(fit / med_s - 1) * 100:+.1f}%" if med_s else "-"
        print(f"| {key[0]} | {key[1]} | {t} | {f(fit)} | {f(bare)} | {(fit / bare - 1) * 100:+.1f}% | {f(med_s)} | {vs} |")
print()
print("| prediction | threads | mlp | PyTorch | ratio |")
print("|---|---|---|---|---|")
for t in runs:
    ours, theirs = preds(0, t), preds(1, t)
    for model, a in ours.items():
        b = theirs.get(model)
        if not b:
            continue
        print(f"| {model}, one sample (us) | {t} | {f(a['single_us'], 1)} | {f(b['single_us'], 1)} | {ratio(b['single_us'], a['single_us'])} |")
        print(f"| {model}, 10,000 in batches of 1,000 (ms) | {t} | {f(a['batch10k_ms'], 1)} | {f(b['batch10k_ms'], 1)} | {ratio(b['batch10k_ms'], a['batch10k_ms'])} |")
        for metric in ("single_us", "batch10k_ms"):
            for side, v in (("ours", a), ("theirs", b)):
                k = ((model, "predict"), metric, side)
                best[k] = min(best.get(k, v[metric]), v[metric])
print()
print("Each side at its own best thread count:")
print()
print("| row | mlp | PyTorch | ratio |")
print("|---|---|---|---|")
for (key, metric, side), v in sorted(best.items(), key=lambda kv: str(kv[0])):
    if side != "ours":
        continue
    theirs = best.get((key, metric, "theirs"))
    if theirs is not None:
        print(f"| {key[0]} {key[1]} {metric} | {f(v, 4)} | {f(theirs, 4)} | {ratio(theirs, v)} |")
PYEOF
