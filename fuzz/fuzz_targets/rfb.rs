//! libFuzzer target `rfb`: the property `kenshin_wire::fuzzing::rfb_handshake` on any input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kenshin_wire::fuzzing::rfb_handshake(data));
