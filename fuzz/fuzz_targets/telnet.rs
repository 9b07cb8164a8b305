//! libFuzzer target `telnet`: the property `kenshin_wire::fuzzing::telnet_negotiation` on any input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kenshin_wire::fuzzing::telnet_negotiation(data));
