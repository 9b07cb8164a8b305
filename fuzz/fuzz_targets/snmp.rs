//! Any bytes through the SNMP decoder: it must never panic, and a decoded GetRequest
//! must re-encode to bytes that decode to the same request.
#![no_main]

use kenshin_wire::snmp::{decode_message, encode_get_request, PduType, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = decode_message(data) else { return };
    if msg.pdu_type != PduType::GET_REQUEST || msg.varbinds.iter().any(|v| v.value != Value::Null) {
        return;
    }
    let oids: Vec<&[u32]> = msg.varbinds.iter().map(|v| v.oid.as_slice()).collect();
    let Ok(id) = i32::try_from(msg.request_id) else { return };
    if let Some(bytes) = encode_get_request(msg.version, &msg.community, id, &oids) {
        let again = decode_message(&bytes).expect("our own encoding decodes");
        assert_eq!(again.varbinds, msg.varbinds);
        assert_eq!(again.community, msg.community);
    }
});
