//! libFuzzer target `greeting`: the property `kenshin_wire::fuzzing::greetings` on any input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kenshin_wire::fuzzing::greetings(data));
