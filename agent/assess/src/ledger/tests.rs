use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<Ledger, LedgerError> {
    Ledger::parse(Path::new("ledger.csv"), text.as_bytes())
}

#[test]
fn a_ledger_in_english_columns_reads_every_field() {
    let l = parse(
        "address,mac,hostname,kind,owner,location,note\n\
         198.18.2.10,00-09-5C-4B-01-01,PACS01,medical_device,放射線科,地下1階,CT\n\
         ,,printer-3f,printer,,,\n",
    )
    .expect("parses");
    assert_eq!(l.encoding, "UTF-8");
    assert_eq!(l.entries.len(), 2);
    let e = &l.entries[0];
    assert_eq!(e.line, 2);
    assert_eq!(e.address, Some("198.18.2.10".parse().expect("ip")));
    assert_eq!(e.mac, Some([0x00, 0x09, 0x5c, 0x4b, 0x01, 0x01]));
    assert_eq!(e.hostname.as_deref(), Some("pacs01"));
    assert_eq!(e.kind, Some(DeviceKind::MedicalDevice));
    assert_eq!(e.owner.as_deref(), Some("放射線科"));
    assert_eq!(l.entries[1].line, 3);
    assert_eq!(l.sha256.len(), 64);
}

#[test]
fn a_shift_jis_export_from_excel_with_japanese_headers_is_read() {
    let text = "IPアドレス,MACアドレス,ホスト名,種別,管理者,設置場所,備考,資産番号\r\n\
                198.18.3.20,,sw-core,ネットワーク機器,情報システム課,サーバ室,,A-001\r\n";
    let (sjis, _, errors) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!errors);
    let l = Ledger::parse(Path::new("台帳.csv"), &sjis).expect("parses");
    assert_eq!(l.encoding, "Shift_JIS");
    assert_eq!(l.entries[0].line, 2, "CRLF lines are counted like LF lines");
    assert_eq!(l.entries[0].kind, Some(DeviceKind::NetworkDevice));
    assert_eq!(l.entries[0].location.as_deref(), Some("サーバ室"));
    assert_eq!(l.ignored_columns, ["資産番号"]);
}

#[test]
fn a_utf8_bom_is_not_part_of_the_first_header() {
    let l = parse("\u{feff}address\n198.18.1.5\n").expect("parses");
    assert_eq!(l.entries.len(), 1);
}

#[test]
fn a_bad_value_names_the_line_and_column() {
    let err = parse("hostname,address\npacs,198.18.2.300\n").expect_err("bad ip");
    assert_eq!(
        err.to_string(),
        "ledger ledger.csv line 2, column 2 (address): \"198.18.2.300\" is not an IPv4 or IPv6 address"
    );
    let err = parse("address,mac\n198.18.2.1,00:11:22\n").expect_err("bad mac");
    assert!(err.to_string().contains("line 2, column 2 (mac)"), "{err}");
    let err = parse("address,種別\n198.18.2.1,冷蔵庫\n").expect_err("bad kind");
    assert!(
        err.to_string()
            .contains("line 2, column 2 (kind): \"冷蔵庫\""),
        "{err}"
    );
}

#[test]
fn a_row_with_the_wrong_number_of_fields_names_its_line() {
    let err = parse("address,owner\n198.18.2.1,a\n198.18.2.2,b,c\n").expect_err("ragged");
    assert!(
        err.to_string()
            .starts_with("ledger ledger.csv line 3: 3 columns"),
        "{err}"
    );
    let err = parse("address,owner\r\n198.18.2.1,a\r\n198.18.2.300,b\r\n").expect_err("crlf");
    assert!(err.to_string().contains("line 3, column 1"), "{err}");
}

#[test]
fn rows_without_identity_duplicates_and_headers_without_identity_are_refused() {
    let err = parse("address,owner\n,医事課\n").expect_err("no identity");
    assert!(err.to_string().contains("line 2: a row needs"), "{err}");
    let err = parse("address\n198.18.2.1\n198.18.2.1\n").expect_err("duplicate");
    assert!(
        err.to_string()
            .contains("line 3: address 198.18.2.1 is already on line 2"),
        "{err}"
    );
    let err = parse("owner,location\na,b\n").expect_err("no identity column");
    assert!(
        err.to_string()
            .contains("no address, mac or hostname column"),
        "{err}"
    );
}

#[test]
fn bytes_that_are_neither_utf8_nor_shift_jis_are_refused() {
    let err = Ledger::parse(Path::new("x.csv"), b"address\n\xff\xfe\xfd\n").expect_err("binary");
    assert!(
        err.to_string().contains("neither UTF-8 nor Shift_JIS"),
        "{err}"
    );
}

#[test]
fn macs_are_read_in_every_common_spelling() {
    for s in [
        "00:09:5c:4b:01:01",
        "00-09-5C-4B-01-01",
        "0009.5c4b.0101",
        "00095c4b0101",
    ] {
        assert_eq!(parse_mac(s), Some([0, 9, 0x5c, 0x4b, 1, 1]), "{s}");
    }
    assert_eq!(parse_mac("00:09:5c:4b:01"), None);
    assert_eq!(parse_mac("zz:09:5c:4b:01:01"), None);
}

#[test]
fn a_utf16_export_is_refused_rather_than_read_as_shift_jis() {
    let mut bytes = vec![0xff, 0xfe];
    for u in "address,hostname\n198.18.1.10,emr01\n".encode_utf16() {
        bytes.extend(u.to_le_bytes());
    }
    let err = Ledger::parse(Path::new("x.csv"), &bytes).expect_err("UTF-16");
    assert!(err.to_string().contains("UTF-16"), "{err}");
    let mut be = vec![0xfe, 0xff];
    be.extend("address\n".encode_utf16().flat_map(u16::to_be_bytes));
    assert!(Ledger::parse(Path::new("x.csv"), &be).is_err());
}

#[test]
fn every_row_of_a_large_ledger_keeps_its_own_line_number() {
    // Rows counted by a line index, LF and CRLF alike: the 40,000th row's error names
    // its own line (the header is line 1).
    for eol in ["\n", "\r\n"] {
        let mut text = format!("address,hostname{eol}");
        for i in 0..40_000u32 {
            text.push_str(&format!(
                "198.{}.{}.{},h{i}{eol}",
                18 + i / 65_536,
                (i / 256) % 256,
                i % 256
            ));
        }
        text.push_str(&format!("not-an-address,x{eol}"));
        let err = Ledger::parse(Path::new("big.csv"), text.as_bytes()).expect_err("bad row");
        assert!(err.to_string().contains("line 40002"), "{eol:?}: {err}");
    }
}

#[test]
fn a_fifo_or_device_as_the_ledger_is_refused_at_once() {
    let err = Ledger::load(Path::new("/dev/zero")).expect_err("device");
    assert!(err.to_string().contains("character device"), "{err}");
}
