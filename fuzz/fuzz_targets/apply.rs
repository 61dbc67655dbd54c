#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| meent_fuzz::apply(data));
