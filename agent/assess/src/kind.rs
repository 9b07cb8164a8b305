//! The report contract's device kinds: a leaf that the loaders (fingerprints, vendor
//! kinds, the ledger) and identification all use, so none of them imports another for it.

/// The report contract's device kinds, serialized in the contract spelling.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Server,
    NetworkDevice,
    TerminalPc,
    MedicalDevice,
    Printer,
    Iot,
    Unknown,
}

impl DeviceKind {
    pub const ALL: [DeviceKind; 7] = [
        DeviceKind::Server,
        DeviceKind::NetworkDevice,
        DeviceKind::TerminalPc,
        DeviceKind::MedicalDevice,
        DeviceKind::Printer,
        DeviceKind::Iot,
        DeviceKind::Unknown,
    ];

    /// The contract spelling (`server`, `network_device`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Server => "server",
            DeviceKind::NetworkDevice => "network_device",
            DeviceKind::TerminalPc => "terminal_pc",
            DeviceKind::MedicalDevice => "medical_device",
            DeviceKind::Printer => "printer",
            DeviceKind::Iot => "iot",
            DeviceKind::Unknown => "unknown",
        }
    }

    /// Parses the contract spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "server" => DeviceKind::Server,
            "network_device" => DeviceKind::NetworkDevice,
            "terminal_pc" => DeviceKind::TerminalPc,
            "medical_device" => DeviceKind::MedicalDevice,
            "printer" => DeviceKind::Printer,
            "iot" => DeviceKind::Iot,
            "unknown" => DeviceKind::Unknown,
            _ => return None,
        })
    }

    pub(crate) fn phrase(self) -> &'static str {
        match self {
            DeviceKind::Server => "a server",
            DeviceKind::NetworkDevice => "a network device",
            DeviceKind::TerminalPc => "a terminal PC",
            DeviceKind::MedicalDevice => "a medical device",
            DeviceKind::Printer => "a printer",
            DeviceKind::Iot => "an IoT device",
            DeviceKind::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for DeviceKind {
    /// The contract spelling.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
