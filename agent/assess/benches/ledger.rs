//! How long reading an asset ledger takes as it grows (issue 20: 40,000 rows took
//! 3.9 s and 160,000 rows 61 s when each row's line was found by recounting from the
//! start). Prints a Markdown table of medians over five runs; `bench/run.sh` puts it
//! in docs/benchmarks.md. `cargo bench -p kenshin-assess --bench ledger`.

use std::path::Path;
use std::time::{Duration, Instant};

use kenshin_assess::ledger::Ledger;

/// A ledger of `rows` devices: address, MAC, hostname, kind, owner, location, CRLF as
/// Excel writes it.
fn ledger(rows: u32) -> Vec<u8> {
    let mut text = String::from("address,mac,hostname,kind,owner,location\r\n");
    for i in 0..rows {
        text.push_str(&format!(
            "198.{}.{}.{},02:00:{:02x}:{:02x}:{:02x}:01,host{i},server,情報システム課,本館{}F\r\n",
            18 + i / 65_536,
            (i / 256) % 256,
            i % 256,
            (i >> 16) & 0xff,
            (i >> 8) & 0xff,
            i & 0xff,
            i % 9 + 1
        ));
    }
    text.into_bytes()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() {
    println!("| rows | bytes | median parse time (5 runs) | rows/s |");
    println!("|---:|---:|---:|---:|");
    for rows in [10_000, 40_000, 160_000] {
        let bytes = ledger(rows);
        let times: Vec<Duration> = (0..5)
            .map(|_| {
                let t = Instant::now();
                let l = Ledger::parse(Path::new("bench.csv"), &bytes).expect("a valid ledger");
                assert_eq!(l.entries.len(), rows as usize);
                t.elapsed()
            })
            .collect();
        let m = median(times);
        println!(
            "| {rows} | {} | {:.3} s | {:.0} |",
            bytes.len(),
            m.as_secs_f64(),
            f64::from(rows) / m.as_secs_f64()
        );
    }
}
