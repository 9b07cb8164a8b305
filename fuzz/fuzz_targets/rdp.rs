//! libFuzzer target `rdp`: the property `kenshin_wire::fuzzing::rdp_confirm` on any input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kenshin_wire::fuzzing::rdp_confirm(data));
