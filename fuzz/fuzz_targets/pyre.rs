#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mailman_gate_fuzz_common::pyre(data);
});
