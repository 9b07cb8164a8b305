use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;

use super::read::{self, Limits};
use super::*;
use crate::model::Evidence;

fn record(id: &str, sent: &[u8], received: &[u8]) -> Evidence {
    Evidence {
        id: id.to_owned(),
        host: "198.18.2.10".to_owned(),
        port: Some(443),
        protocol: Some("tcp".to_owned()),
        probe: "tls-hello".to_owned(),
        at: "2026-11-22T00:00:00Z".to_owned(),
        sent: sent.into(),
        received: received.into(),
        truncated: false,
        redacted: Vec::new(),
        note: "ServerHello".to_owned(),
        exchange: Vec::new(),
    }
}

/// Bytes that do not repeat (a stand-in for a certificate or a server random).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 32) as u8
        })
        .collect()
}

/// A server's first flight: a random of its own, then the same certificate chain.
fn flight(random: u64, chain: &[u8]) -> Vec<u8> {
    let mut f = noise(random, 96);
    f.extend_from_slice(chain);
    f.extend_from_slice(&noise(random + 1000, 200));
    f
}

fn written(dir: &Path, records: &[Evidence]) -> (PathBuf, write::Packed) {
    let packed = write::pack(records).expect("packs");
    let path = dir.join(ARCHIVE);
    std::fs::write(&path, &packed.archive).expect("written");
    (path, packed)
}

/// Every chunk line's decoded bytes, summed.
fn chunk_bytes(path: &Path) -> usize {
    let mut m = read::members(path).expect("opens");
    let mut total = 0;
    while let Some(member) = m.next_member().expect("member") {
        if !member.record {
            let v: serde_json::Value = serde_json::from_slice(&member.line).expect("json");
            let text = v["base64"].as_str().expect("base64");
            total += base64::engine::general_purpose::STANDARD
                .decode(text)
                .expect("decodes")
                .len();
        }
    }
    total
}

#[test]
fn two_handshakes_with_the_same_chain_store_the_chain_once_and_read_back_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let chain = noise(42, 3000);
    let hello = noise(7, 200);
    let records = vec![
        record("ev-000001", &hello, &flight(1, &chain)),
        record("ev-000002", &hello, &flight(2, &chain)),
        record("ev-000003", b"", b""),
    ];
    let (path, packed) = written(dir.path(), &records);
    assert_eq!(packed.records, 3);
    let stored = chunk_bytes(&path);
    let one_flight = hello.len() + flight(1, &chain).len();
    assert!(
        stored < one_flight + 2 * (96 + 200 + 2 * chunk::MAX_CHUNK),
        "{stored} bytes of chunks stored for two flights of {} bytes sharing a chain",
        flight(1, &chain).len()
    );
    assert!(stored < 2 * chain.len(), "the chain is not stored twice");
    assert_eq!(read::records(&path, None).expect("reads"), records);
    let one: BTreeSet<String> = ["ev-000002".to_owned()].into();
    assert_eq!(
        read::records(&path, Some(&one)).expect("reads"),
        vec![records[1].clone()]
    );
}

#[test]
fn the_same_banner_from_many_hosts_is_one_chunk_and_the_index_lists_every_member() {
    let dir = tempfile::tempdir().expect("temp dir");
    let records: Vec<Evidence> = (1..=50)
        .map(|n| record(&format!("ev-{n:06}"), b"", b"220 printer ready\r\n"))
        .collect();
    let (path, packed) = written(dir.path(), &records);
    assert_eq!(packed.chunks, 1);
    assert_eq!(chunk_bytes(&path), b"220 printer ready\r\n".len());
    let index = String::from_utf8(packed.index).expect("utf-8");
    let names: Vec<&str> = index
        .lines()
        .map(|l| l.split_once("  ").expect("two spaces").1)
        .collect();
    assert_eq!(names.len(), 51);
    assert_eq!(names[..2], ["c1", "ev-000001"]);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip")
}

#[test]
fn a_decompression_bomb_is_refused_at_the_inflated_limit_not_read_to_the_end() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(ARCHIVE);
    let line = b"{\"chunk\":\"c1\",\"base64\":\"AAAA\"}\n";
    let bomb: Vec<u8> = line.iter().copied().cycle().take(8 * 1024 * 1024).collect();
    let packed = gzip(&bomb);
    assert!(packed.len() < 200 * 1024, "a bomb is small on disk");
    std::fs::write(&path, packed).expect("w");
    let limits = Limits {
        inflated: 1024 * 1024,
        ..Limits::ARCHIVE
    };
    let mut m = read::members_within(&path, limits).expect("opens");
    let err = loop {
        match m.next_member() {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("read to the end past the limit"),
            Err(e) => break e,
        }
    };
    assert!(
        matches!(err, ArchiveError::Inflated { limit, .. } if limit == 1024 * 1024),
        "{err}"
    );
    assert!(err.to_string().contains("decompression bomb"), "{err}");
}

#[test]
fn an_endless_line_or_too_many_members_or_garbage_is_refused_with_its_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(ARCHIVE);
    std::fs::write(&path, gzip(&vec![b'a'; 2 * MAX_MEMBER])).expect("w");
    let err = read::records(&path, None).expect_err("endless line");
    assert!(
        matches!(err, ArchiveError::MemberTooLong { line: 1, .. }),
        "{err}"
    );

    let many = b"{\"chunk\":\"c1\",\"base64\":\"\"}\n".repeat(11);
    std::fs::write(&path, gzip(&many)).expect("w");
    let limits = Limits {
        members: 10,
        ..Limits::ARCHIVE
    };
    let mut m = read::members_within(&path, limits).expect("opens");
    let err = std::iter::from_fn(|| m.next_member().transpose())
        .find_map(Result::err)
        .expect("refused");
    assert!(
        matches!(err, ArchiveError::TooManyMembers { limit: 10, .. }),
        "{err}"
    );

    std::fs::write(&path, b"not gzip at all").expect("w");
    let err = read::records(&path, None).expect_err("garbage");
    assert!(err.to_string().contains("compressed data"), "{err}");

    std::fs::write(&path, gzip(b"{\"id\":\"ev-1\",\"chunk\":\"c1\"}\n")).expect("w");
    let err = read::records(&path, None).expect_err("both kinds");
    assert!(
        err.to_string().contains("either a chunk or a record"),
        "{err}"
    );
}

#[test]
fn a_record_whose_chunk_is_gone_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, _) = written(dir.path(), &[record("ev-000001", b"", b"hello")]);
    let mut lines = Vec::new();
    let mut m = read::members(&path).expect("opens");
    while let Some(member) = m.next_member().expect("member") {
        if member.record {
            lines.extend_from_slice(&member.line);
            lines.push(b'\n');
        }
    }
    std::fs::write(&path, gzip(&lines)).expect("w");
    let err = read::records(&path, None).expect_err("chunk missing");
    assert!(
        matches!(&err, ArchiveError::MissingChunk { record, chunk, .. }
            if record == "ev-000001" && chunk == "c1"),
        "{err}"
    );
}
