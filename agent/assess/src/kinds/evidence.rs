//! The fields kind rules read: one flat map per host of what it shows about itself
//! (operating systems, distributions, products, protocols spoken, open ports, SNMP
//! system description, the reply TTL) and what the network shows about it (whether it
//! routes the scanner's packets).

use kenshin_probe::observation::{Fact, Facts, HostObservation};
use kenshin_probe::ports::Protocol;

use crate::fingerprint::Identity;

/// What the kind decision reads of one open service (identification builds it).
#[derive(Debug, Clone, Copy)]
pub struct ServiceView<'a> {
    pub protocol: Protocol,
    pub port: u16,
    /// The service's name.
    pub service: &'a str,
    /// True if the name came from the service's own bytes, not its port number.
    pub spoken: bool,
    /// What the fingerprints made of it.
    pub identity: &'a Identity,
}

/// Every field a kind rule may read, with what it holds.
pub const FIELDS: &[(&str, &str)] = &[
    (
        "os",
        "operating systems the service fingerprints named (list)",
    ),
    (
        "distribution",
        "distributions the fingerprints named (`Debian` …, list)",
    ),
    ("vendor", "vendors the fingerprints named (list)"),
    (
        "product",
        "products the fingerprints named (`vsftpd`, `nginx` …, list)",
    ),
    (
        "spoken",
        "services named from their own bytes, not their port number (`ssh`, `dicom` …, list)",
    ),
    ("open", "open ports as `tcp/22`, `udp/161` (list)"),
    ("snmp.sys_descr", "the SNMP agent's sysDescr"),
    ("snmp.sys_object_id", "the SNMP agent's sysObjectID"),
    (
        "path.route",
        "what the network shows: `gateway` (a gateway in the scanner's routing table), \
         `one_hop` (answered an echo limited to one hop from beyond the scanner's \
         segments), `time_exceeded` (said a TTL-limited echo ran out: it forwards \
         packets), `scanner` (the scanner's own address) (list)",
    ),
    (
        "path.initial_ttl",
        "the TTL the host's echo reply most likely started with: 32, 64, 128 or 255",
    ),
];

/// True if `name` is a kind rule field.
pub fn known(name: &str) -> Result<(), String> {
    if FIELDS.iter().any(|(n, _)| *n == name) {
        Ok(())
    } else {
        Err(format!(
            "unknown field {name:?} for a kind rule (fields: {})",
            FIELDS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// The TTL a reply most likely started with: the smallest common initial value not
/// below it.
pub fn initial_ttl(ttl: u8) -> i64 {
    match ttl {
        0..=32 => 32,
        33..=64 => 64,
        65..=128 => 128,
        _ => 255,
    }
}

/// The kind fields of a host.
pub fn of_host(observation: &HostObservation, services: &[ServiceView<'_>]) -> Facts {
    let mut f = Facts::new();
    let mut list = |name: &str, values: Vec<String>| {
        let mut values = values;
        values.sort();
        values.dedup();
        if !values.is_empty() {
            f.insert(name.to_owned(), Fact::List(values));
        }
    };
    for attr in ["os", "distribution", "vendor", "product"] {
        list(
            attr,
            services
                .iter()
                .filter_map(|s| s.identity.get(attr).map(str::to_owned))
                .collect(),
        );
    }
    list(
        "spoken",
        services
            .iter()
            .filter(|s| s.spoken)
            .map(|s| s.service.to_owned())
            .collect(),
    );
    list(
        "open",
        services
            .iter()
            .map(|s| format!("{}/{}", s.protocol.as_str(), s.port))
            .collect(),
    );
    let path = &observation.path;
    let mut route = Vec::new();
    if path.route_gateway {
        route.push("gateway".to_owned());
    }
    if path.one_hop {
        route.push("one_hop".to_owned());
    }
    if !path.time_exceeded_for.is_empty() {
        route.push("time_exceeded".to_owned());
    }
    if path.scanner {
        route.push("scanner".to_owned());
    }
    list("path.route", route);
    if let Some(ttl) = path.reply_ttl {
        f.insert("path.initial_ttl".into(), Fact::Int(initial_ttl(ttl)));
    }
    if let Some(snmp) = &observation.snmp {
        for (name, value) in [
            ("snmp.sys_descr", &snmp.sys_descr),
            ("snmp.sys_object_id", &snmp.sys_object_id),
        ] {
            if let Some(v) = value {
                f.insert(name.into(), Fact::Text(v.clone()));
            }
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_ttl_is_read_as_the_common_start_value_above_it() {
        assert_eq!(initial_ttl(63), 64);
        assert_eq!(initial_ttl(64), 64);
        assert_eq!(initial_ttl(120), 128);
        assert_eq!(initial_ttl(250), 255);
        assert_eq!(initial_ttl(30), 32);
    }

    #[test]
    fn every_field_is_known_and_others_are_named_as_unknown() {
        for (name, _) in FIELDS {
            assert!(known(name).is_ok(), "{name}");
        }
        let e = known("host.os").expect_err("unknown");
        assert!(e.contains("\"host.os\"") && e.contains("spoken"), "{e}");
    }
}
