//! libFuzzer target `dicom`: the property `kenshin_wire::fuzzing::dicom_pdu` on any input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kenshin_wire::fuzzing::dicom_pdu(data));
