//! libFuzzer target `ntlm`: the property `kenshin_wire::fuzzing::ntlm_challenge` on any input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kenshin_wire::fuzzing::ntlm_challenge(data));
