//! libFuzzer target `listen`: the property `kenshin_wire::fuzzing::listen_frame` on any input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kenshin_wire::fuzzing::listen_frame(data));
