//! A checked cursor over received bytes.
//!
//! [`Reader`] never indexes past its slice: every read returns
//! [`DecodeError::Truncated`] when the bytes are not there, naming the field
//! that was being read. [`Reader::sub`] carves out a length-prefixed field so
//! that a nested decoder cannot run into its neighbour, and
//! [`Reader::expect_end`] rejects trailing bytes.

use thiserror::Error;

/// Why a byte string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before `field` was complete.
    #[error("truncated while reading {field}: needed {needed} more bytes, {available} left")]
    Truncated {
        field: &'static str,
        needed: usize,
        available: usize,
    },
    /// Bytes were left over after a complete message or field.
    #[error("{count} unexpected trailing bytes after {field}")]
    TrailingBytes { field: &'static str, count: usize },
    /// A field held a value the format does not allow.
    #[error("invalid {field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    /// A length or count was larger than the limit this codec accepts.
    #[error("{field} too large: {value} exceeds the limit of {limit}")]
    TooLarge {
        field: &'static str,
        value: usize,
        limit: usize,
    },
}

/// A cursor over a byte slice whose every read is bounds-checked.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// How many bytes have been consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Takes exactly `n` bytes.
    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let available = self.remaining();
        if n > available {
            return Err(DecodeError::Truncated {
                field,
                needed: n - available,
                available,
            });
        }
        let start = self.pos;
        self.pos += n;
        Ok(&self.buf[start..self.pos])
    }

    /// Takes one byte.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, field)?[0])
    }

    /// Takes a big-endian u16.
    pub fn u16_be(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Takes a big-endian u32.
    pub fn u32_be(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Takes a little-endian u16 (SMB, RDP negotiation).
    pub fn u16_le(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, field)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    /// Takes a little-endian u32.
    pub fn u32_le(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, field)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Takes a little-endian u64.
    pub fn u64_le(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let b = self.take(8, field)?;
        Ok(u64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }

    /// Looks at the next byte without consuming it.
    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// Carves out the next `n` bytes as a reader of their own.
    pub fn sub(&mut self, n: usize, field: &'static str) -> Result<Reader<'a>, DecodeError> {
        self.take(n, field).map(Reader::new)
    }

    /// Takes everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        let start = self.pos;
        self.pos = self.buf.len();
        &self.buf[start..]
    }

    /// Fails unless every byte has been consumed.
    pub fn expect_end(&self, field: &'static str) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { field, count }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_past_the_end_names_the_field_and_the_shortfall() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16_be("first").ok(), Some(0x0102));
        assert_eq!(
            r.u16_be("second"),
            Err(DecodeError::Truncated {
                field: "second",
                needed: 1,
                available: 1
            })
        );
        // A failed read consumes nothing.
        assert_eq!(r.u8("third").ok(), Some(3));
        assert!(r.is_empty());
    }

    #[test]
    fn little_endian_fields_read_low_byte_first() {
        let mut r = Reader::new(&[
            0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 1, 0, 0, 0, 0, 0, 0, 0x80,
        ]);
        assert_eq!(r.u16_le("a").ok(), Some(0x1234));
        assert_eq!(r.u32_le("b").ok(), Some(0x1234_5678));
        assert_eq!(r.u64_le("c").ok(), Some(0x8000_0000_0000_0001));
        assert!(r.u16_le("d").is_err());
    }

    #[test]
    fn a_sub_reader_cannot_see_its_neighbours_bytes() {
        let mut r = Reader::new(&[0xaa, 0xbb, 0xcc]);
        let mut inner = r.sub(2, "inner").expect("two bytes are there");
        assert_eq!(inner.take(2, "x").ok(), Some(&[0xaa, 0xbb][..]));
        assert!(inner.u8("beyond").is_err());
        assert_eq!(r.u8("outer").ok(), Some(0xcc));
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut r = Reader::new(&[1, 2]);
        r.u8("a").expect("one byte is there");
        assert_eq!(
            r.expect_end("message"),
            Err(DecodeError::TrailingBytes {
                field: "message",
                count: 1
            })
        );
    }
}
