#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mlp_fuzz::targets::checkpoint(data);
});
