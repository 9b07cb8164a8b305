//! libFuzzer target `tls_flight`: the property `kenshin_wire::fuzzing::tls_flight` on any input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kenshin_wire::fuzzing::tls_flight(data));
