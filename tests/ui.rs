//! What the compiler catches for you: one compile-fail case per `network!` diagnostic in
//! tests/ui, each with the exact output it must produce (regenerate with
//! `TRYBUILD=overwrite cargo test --test ui`, then read every changed `.stderr`).

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
