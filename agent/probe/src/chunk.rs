//! Content-defined chunking of payloads: where a payload is cut depends only on the
//! bytes just before the cut, so the same run of bytes (a certificate chain) is cut
//! the same way wherever it sits in a payload (after a server random that differs in
//! every handshake) and becomes the same chunks. The evidence log holds each distinct
//! chunk once while the scan runs, and the report's archive stores it once.
//!
//! A rolling "gear" hash over the last 64 bytes: a cut falls after a byte where the
//! hash's top [`CUT_BITS`] bits are all zero, but never before [`MIN_CHUNK`] bytes
//! and always at [`MAX_CHUNK`]. Chunks average about `MIN_CHUNK + 2^CUT_BITS` bytes.

/// The shortest chunk cut by content (a payload's last chunk may be shorter).
pub const MIN_CHUNK: usize = 64;
/// The longest chunk.
pub const MAX_CHUNK: usize = 1024;
/// How many top bits of the rolling hash must be zero for a cut.
const CUT_BITS: u32 = 8;
const CUT_MASK: u64 = !(u64::MAX >> CUT_BITS);

/// One pseudo-random value per byte value (splitmix64 from a fixed seed), fixed so
/// that the same bytes are cut the same way in every scan.
const GEAR: [u64; 256] = gear_table();

const fn gear_table() -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut state: u64 = 0x6b65_6e73_6869_6e31; // "kenshin1"
    let mut i = 0;
    while i < 256 {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        table[i] = z ^ (z >> 31);
        i += 1;
    }
    table
}

/// The chunks of `payload`, in order; none for an empty payload.
pub fn split(payload: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut hash = 0u64;
    for (i, &b) in payload.iter().enumerate() {
        hash = (hash << 1).wrapping_add(GEAR[usize::from(b)]);
        let len = i + 1 - start;
        if (len >= MIN_CHUNK && hash & CUT_MASK == 0) || len >= MAX_CHUNK {
            out.push(&payload[start..=i]);
            start = i + 1;
            hash = 0;
        }
    }
    if start < payload.len() {
        out.push(&payload[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes that look random enough for content cuts.
    fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut s = seed;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn chunks_put_back_together_are_the_payload_and_stay_within_their_bounds() {
        for len in [0, 1, 63, 64, 65, 1023, 1024, 1025, 4096, 10_000] {
            let p = noise(len as u64 + 1, len);
            let chunks = split(&p);
            assert_eq!(chunks.concat(), p, "{len}");
            assert!(chunks.iter().all(|c| !c.is_empty() && c.len() <= MAX_CHUNK));
            let last = chunks.len().saturating_sub(1);
            assert!(chunks[..last].iter().all(|c| c.len() >= MIN_CHUNK));
        }
    }

    #[test]
    fn the_same_certificate_after_different_randoms_is_cut_into_the_same_chunks() {
        let chain = noise(7, 3000);
        let flight = |random_seed: u64| {
            let mut f = noise(random_seed, 90);
            f.extend_from_slice(&chain);
            f.extend_from_slice(&noise(random_seed + 100, 300));
            f
        };
        let (a, b) = (flight(1), flight(2));
        let (ca, cb) = (split(&a), split(&b));
        let shared = ca
            .iter()
            .filter(|c| cb.contains(c))
            .map(|c| c.len())
            .sum::<usize>();
        assert!(
            shared >= chain.len() - 2 * MAX_CHUNK,
            "only {shared} of the chain's {} bytes are shared chunks",
            chain.len()
        );
    }
}
