//! libFuzzer target `ssh`: the property `kenshin_wire::fuzzing::ssh_ident` on any input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kenshin_wire::fuzzing::ssh_ident(data));
