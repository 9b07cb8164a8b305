//! libFuzzer target `snmp`: the property `kenshin_wire::fuzzing::snmp_message` on any input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kenshin_wire::fuzzing::snmp_message(data));
