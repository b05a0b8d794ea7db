//! Every activation and initializer in mlp-dsl's keyword tables, expanded by `network!`,
//! compiled and run. The program is generated from the tables themselves, so a new row whose
//! runtime variant is missing, misnamed, or named differently by the runtime fails here.

use mlp_dsl::keywords::{ActivationWord, ACTIVATIONS, DISTRIBUTIONS, FAN_MODES, INITIALIZERS};
use std::fmt::Write as _;

/// The keyword the runtime's `Activation::name` gives back: a variant's first keyword.
fn canonical(w: &ActivationWord) -> &'static str {
    ACTIVATIONS.iter().find(|c| c.variant == w.variant).map_or(w.keyword, |c| c.keyword)
}

/// A network with, for each activation, a standalone layer (with its default and with an
/// explicit argument when it takes one) and a dense layer using it; and a dense layer per
/// initializer and per `variance_scaling` mode and distribution. Then a `main` that checks
/// what the runtime built from each.
fn program() -> String {
    let (mut layers, mut checks) = (String::new(), String::new());
    let c = &mut checks;
    for w in ACTIVATIONS {
        let (k, v, name) = (w.keyword, w.variant, canonical(w));
        // The runtime value each layer must hold: the variant, with the table's default.
        let value = match w.alpha {
            Some(a) => format!("Activation::{v}({a:?})"),
            None => format!("Activation::{v}"),
        };
        writeln!(layers, "a_{k}: {k}; d_{k}: dense(3, {k});").unwrap();
        writeln!(c, "assert_eq!(Layer::output_activation(&net.a_{k}), Some({value}));").unwrap();
        writeln!(c, "assert_eq!(net.a_{k}.output_activation().unwrap().name(), {name:?});").unwrap();
        writeln!(c, "assert_eq!(net.d_{k}.activation(), {value});").unwrap();
        if w.alpha.is_some() {
            writeln!(layers, "a_{k}_arg: {k}(0.5);").unwrap();
            writeln!(c, "assert_eq!(Layer::output_activation(&net.a_{k}_arg), Some(Activation::{v}(0.5)));")
                .unwrap();
        }
    }
    for w in INITIALIZERS {
        let (k, v) = (w.keyword, w.variant);
        writeln!(layers, "i_{k}: dense(3, init = {k});").unwrap();
        writeln!(c, "assert_eq!(Init::{v}.name(), {k:?});").unwrap();
        let rule = match k {
            "zeros" => "w.iter().all(|x| *x == 0.0)",
            "ones" => "w.iter().all(|x| *x == 1.0)",
            // A random draw: finite, and not one value repeated.
            _ => "w.iter().all(|x| x.is_finite()) && w.iter().any(|x| *x != w[0])",
        };
        writeln!(c, "let w = net.i_{k}.weight(); assert!({rule}, \"{k}: {{w:?}}\");").unwrap();
    }
    for m in FAN_MODES {
        for d in DISTRIBUTIONS {
            let (mk, dk) = (m.keyword, d.keyword);
            let init = format!("variance_scaling(scale = 2.0, mode = {mk}, distribution = {dk})");
            writeln!(layers, "v_{mk}_{dk}: dense(3, init = {init});").unwrap();
            // The runtime's variants, named as the tables say.
            let value = format!(
                "Init::VarianceScaling(VarianceScaling {{ scale: 2.0, mode: FanMode::{}, distribution: ScalingDistribution::{} }})",
                m.variant, d.variant
            );
            writeln!(c, "assert_eq!({value}.name(), \"variance_scaling\");").unwrap();
            writeln!(c, "let w = net.v_{mk}_{dk}.weight(); assert!(w.iter().all(|x| x.is_finite()) && w.iter().any(|x| *x != w[0]));")
                .unwrap();
        }
    }
    format!(
        "use mlp::prelude::*;\n\n\
         network! {{ pub Every< input(3);\n{layers}> }}\n\n\
         fn main() {{\n\
         let mut net = Every::seeded(0);\n\
         {checks}\
         let x = Batch::<3>::from_samples(&[0.1, -0.2, 0.3, 1.0, -1.0, 0.5]).unwrap();\n\
         assert!(net.predict(&x).as_slice().iter().all(|v| v.is_finite()));\n\
         }}\n"
    )
}

#[test]
fn every_activation_and_initializer_expands_compiles_and_runs() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("keywords");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("every_keyword.rs");
    std::fs::write(&path, program()).unwrap();
    trybuild::TestCases::new().pass(&path);
}
