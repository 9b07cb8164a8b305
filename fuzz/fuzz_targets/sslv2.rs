//! libFuzzer target `sslv2`: the property `kenshin_wire::fuzzing::sslv2_hello` on any input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kenshin_wire::fuzzing::sslv2_hello(data));
