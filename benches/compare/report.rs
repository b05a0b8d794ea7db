//! What the comparison prints besides timings: the machine it ran on and the JSON report,
//! in the schema `scripts/bench_pytorch.py` documents, so `scripts/compare.sh` merges the
//! two row by row.

use serde_json::{json, Value};

/// One model at one batch size.
pub struct Row {
    pub model: String,
    pub batch: usize,
    pub epoch_s_all: Vec<f64>,
    pub epoch_cpu: Vec<f64>,
    pub step_us: Option<f64>,
    /// Steps in one epoch of `Model::fit` (0 for a row without epochs).
    pub epoch_steps: usize,
    /// After each timed epoch, as many bare steps on one fixed batch, timed as a whole.
    pub bare_epoch_s_all: Vec<f64>,
    pub loss: Option<f64>,
}

impl Row {
    /// A row with nothing measured yet.
    pub fn new(model: &str, batch: usize) -> Row {
        Row {
            model: model.into(),
            batch,
            epoch_s_all: vec![],
            epoch_cpu: vec![],
            step_us: None,
            epoch_steps: 0,
            bare_epoch_s_all: vec![],
            loss: None,
        }
    }
}

/// The median, NaN for an empty list.
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Process CPU time (user + system) in seconds, from /proc (Linux; 0 elsewhere).
pub fn cpu_seconds() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the parenthesized command name; utime and stime are the 14th and 15th.
    let rest = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0 // USER_HZ is 100 on Linux
}

/// The 1, 5 and 15-minute load averages (empty off Linux): a busy machine explains a slow run.
pub fn loadavg() -> Vec<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).filter_map(|v| v.parse().ok()).collect())
        .unwrap_or_default()
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// A finite number, or JSON null.
fn num(v: Option<f64>) -> Value {
    v.filter(|v| v.is_finite()).map_or(Value::Null, Value::from)
}

/// One model's prediction timings: a single sample in us, 10,000 samples in ms.
pub struct Predict {
    pub model: &'static str,
    pub single_us: f64,
    pub batch10k_ms: f64,
}

/// The whole report: machine, configuration, one entry per row, and the prediction
/// timings of the models that ran.
pub fn json(
    threads: usize,
    repeats: usize,
    quick: bool,
    load_before: Vec<f64>,
    rows: Vec<Row>,
    predict: Vec<Predict>,
) -> Value {
    let results: Vec<Value> = rows
        .into_iter()
        .map(|mut r| {
            let epoch = (!r.epoch_s_all.is_empty()).then(|| median(&mut r.epoch_s_all.clone()));
            let cpu = (!r.epoch_cpu.is_empty()).then(|| median(&mut r.epoch_cpu));
            let bare = (!r.bare_epoch_s_all.is_empty()).then(|| median(&mut r.bare_epoch_s_all.clone()));
            json!({
                "model": r.model, "batch": r.batch, "threads": threads,
                "epoch_s": num(epoch), "epoch_s_all": r.epoch_s_all, "epoch_cpu_s": num(cpu),
                "step_us": num(r.step_us),
                "epoch_steps": r.epoch_steps, "bare_epoch_s": num(bare), "bare_epoch_s_all": r.bare_epoch_s_all,
                "loss": num(r.loss),
            })
        })
        .collect();
    json!({
        "machine": {
            "cpu": cpu_model(),
            "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            "threads": threads,
            "loadavg": load_before,
            "loadavg_after": loadavg(),
            // The active kernel path and thread count, as the library reports them.
            "kernel_isa": mlp::kernel::isa().name(),
            "kernel_threads": mlp::kernel::threads(),
        },
        "config": {"repeats": repeats, "quick": quick},
        "results": results,
        "predict": predict.iter().map(|p| json!({
            "model": p.model, "threads": threads, "single_us": p.single_us, "batch10k_ms": p.batch10k_ms,
        })).collect::<Vec<_>>(),
    })
}
