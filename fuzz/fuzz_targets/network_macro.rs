#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mlp_fuzz::network_macro::network_macro(data);
});
