//! The report contract's device kinds and how sure a kind is: a leaf that the loaders
//! (fingerprints, vendor kinds, kind rules, the ledger) and identification all use, so
//! none of them imports another for it.

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

    pub(crate) fn phrase_ja(self) -> &'static str {
        match self {
            DeviceKind::Server => "サーバ",
            DeviceKind::NetworkDevice => "ネットワーク機器",
            DeviceKind::TerminalPc => "端末 PC",
            DeviceKind::MedicalDevice => "医療機器",
            DeviceKind::Printer => "プリンタ",
            DeviceKind::Iot => "IoT 機器",
            DeviceKind::Unknown => "不明",
        }
    }
}

/// How sure a device kind is, strongest first: `confirmed` when the network or a
/// product fingerprint shows it, `likely` from an operating system serving, a protocol
/// spoken or the MAC vendor, `potential` from open ports or the reply TTL alone.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum KindConfidence {
    Confirmed,
    Likely,
    Potential,
}

impl KindConfidence {
    /// The contract spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            KindConfidence::Confirmed => "confirmed",
            KindConfidence::Likely => "likely",
            KindConfidence::Potential => "potential",
        }
    }

    /// Parses the contract spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "confirmed" => KindConfidence::Confirmed,
            "likely" => KindConfidence::Likely,
            "potential" => KindConfidence::Potential,
            _ => return None,
        })
    }
}

impl std::fmt::Display for DeviceKind {
    /// The contract spelling.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
