//! libFuzzer target `smb`: the property `kenshin_wire::fuzzing::smb_responses` on any input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kenshin_wire::fuzzing::smb_responses(data));
