//! libFuzzer target `banner`: the property `kenshin_wire::fuzzing::banner_text` on any input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kenshin_wire::fuzzing::banner_text(data));
