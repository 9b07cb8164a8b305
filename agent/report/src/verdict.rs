//! What `verify` can find wrong with a sealed folder, as data: the seal finds these
//! ([`crate::seal`]) and the labels word them ([`crate::labels::terminal`]), so neither
//! of those modules needs the other for it.

/// What is wrong with a sealed folder, one file or fact at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// There is no manifest (or it cannot be read).
    NoManifest { reason: String },
    /// The manifest is not a kenshin manifest.
    BadManifest { reason: String },
    /// There is no signature, or it is not 64 bytes.
    NoSignature { reason: String },
    /// The signature does not match the manifest and its key.
    BadSignature,
    /// A key was pinned and another signed.
    WrongKey { expected: String, found: String },
    /// A listed file's bytes differ (same size, another SHA-256).
    Changed {
        path: String,
        expected: String,
        found: String,
    },
    /// A listed file's size is not the size the manifest lists.
    Resized {
        path: String,
        listed: u64,
        found: u64,
    },
    /// The manifest lists the same path more than once.
    Duplicate { path: String },
    /// A listed file is gone.
    Missing { path: String },
    /// A file the manifest does not list. A name that is not UTF-8 is shown with each
    /// invalid byte as `\xNN`.
    Added { path: String },
    /// A listed file that cannot be read, or is not a regular file.
    Unreadable { path: String, reason: String },
    /// report.json or report.html names a signing key other than the one that signed
    /// the manifest: the folder was sealed again by someone else.
    SignerDiffers {
        file: String,
        recorded: String,
        signer: String,
    },
    /// A member of the evidence archive (a record or a chunk of payload) whose line
    /// is not the one the sealed member list holds.
    MemberChanged {
        archive: String,
        member: String,
        record: bool,
    },
    /// A member of the evidence archive that the sealed member list does not name.
    MemberAdded { archive: String, member: String },
    /// A member the sealed member list names and the archive no longer holds.
    MemberMissing { archive: String, member: String },
    /// The archive changed and cannot be read through (corrupt compressed data, a
    /// decompression bomb, a line that is not a member): the members after the point
    /// named are not compared.
    ArchiveUnreadable { archive: String, reason: String },
    /// More archive members differ than are listed one by one.
    MoreMembers { archive: String, count: usize },
}
