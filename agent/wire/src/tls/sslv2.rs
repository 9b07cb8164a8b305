//! SSLv2: a CLIENT-HELLO offering every SSLv2 cipher kind, and recognition of
//! the SERVER-HELLO that answers it. Nothing past the hello is ever spoken;
//! a server that answers at all has SSLv2 switched on, which is the finding.

use crate::reader::{DecodeError, Reader};

/// The SSLv2 cipher kinds (3-byte codes) and their names.
pub const CIPHER_KINDS: &[([u8; 3], &str)] = &[
    ([0x01, 0x00, 0x80], "SSL_CK_RC4_128_WITH_MD5"),
    ([0x02, 0x00, 0x80], "SSL_CK_RC4_128_EXPORT40_WITH_MD5"),
    ([0x03, 0x00, 0x80], "SSL_CK_RC2_128_CBC_WITH_MD5"),
    ([0x04, 0x00, 0x80], "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5"),
    ([0x05, 0x00, 0x80], "SSL_CK_IDEA_128_CBC_WITH_MD5"),
    ([0x06, 0x00, 0x40], "SSL_CK_DES_64_CBC_WITH_MD5"),
    ([0x07, 0x00, 0xC0], "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"),
];

/// An SSLv2 CLIENT-HELLO with a two-byte header, offering every cipher kind.
pub fn encode_client_hello(challenge: [u8; 16]) -> Vec<u8> {
    let specs: Vec<u8> = CIPHER_KINDS.iter().flat_map(|(c, _)| *c).collect();
    let mut body = vec![1, 0x00, 0x02]; // CLIENT-HELLO, version 2
    body.extend_from_slice(&u16::try_from(specs.len()).unwrap_or(0).to_be_bytes());
    body.extend_from_slice(&[0, 0]); // no session id
    body.extend_from_slice(&16u16.to_be_bytes());
    body.extend_from_slice(&specs);
    body.extend_from_slice(&challenge);
    let len = u16::try_from(body.len()).unwrap_or(0) | 0x8000;
    let mut out = len.to_be_bytes().to_vec();
    out.extend(body);
    out
}

/// An SSLv2 SERVER-HELLO: the cipher kinds the server shares with the offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    pub ciphers: Vec<[u8; 3]>,
    pub certificate: Vec<u8>,
}

/// Reads an SSLv2 SERVER-HELLO: `Ok(None)` while more bytes are needed, an error if
/// the bytes are something else (a TLS alert, a reset's nothing, text).
pub fn read_server_hello(buf: &[u8]) -> Result<Option<ServerHello>, DecodeError> {
    let mut r = Reader::new(buf);
    if r.remaining() < 2 {
        return Ok(None);
    }
    let header = r.u16_be("SSLv2 record header")?;
    if header & 0x8000 == 0 {
        return Err(DecodeError::Invalid {
            field: "SSLv2 record header",
            reason: "not a two-byte SSLv2 header",
        });
    }
    let len = usize::from(header & 0x7FFF);
    if r.remaining() < len {
        // Check what is already there before waiting for the rest.
        if let Some(&kind) = buf.get(2) {
            if kind != 4 {
                return Err(DecodeError::Invalid {
                    field: "SSLv2 message type",
                    reason: "not a SERVER-HELLO",
                });
            }
        }
        return Ok(None);
    }
    let mut m = r.sub(len, "SSLv2 record")?;
    if m.u8("SSLv2 message type")? != 4 {
        return Err(DecodeError::Invalid {
            field: "SSLv2 message type",
            reason: "not a SERVER-HELLO",
        });
    }
    m.u8("SSLv2 session id hit")?;
    m.u8("SSLv2 certificate type")?;
    if m.u16_be("SSLv2 server version")? != 0x0002 {
        return Err(DecodeError::Invalid {
            field: "SSLv2 server version",
            reason: "not version 2",
        });
    }
    let cert_len = usize::from(m.u16_be("SSLv2 certificate length")?);
    let specs_len = usize::from(m.u16_be("SSLv2 cipher specs length")?);
    let _conn_id_len = m.u16_be("SSLv2 connection id length")?;
    let certificate = m.take(cert_len, "SSLv2 certificate")?.to_vec();
    let specs = m.take(specs_len, "SSLv2 cipher specs")?;
    if !specs_len.is_multiple_of(3) {
        return Err(DecodeError::Invalid {
            field: "SSLv2 cipher specs",
            reason: "not a multiple of three bytes",
        });
    }
    let ciphers = specs.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
    Ok(Some(ServerHello {
        ciphers,
        certificate,
    }))
}

/// The name of an SSLv2 cipher kind.
pub fn cipher_name(code: [u8; 3]) -> String {
    CIPHER_KINDS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| (*n).to_owned())
        .unwrap_or_else(|| format!("SSL_CK_0x{:02X}{:02X}{:02X}", code[0], code[1], code[2]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_hello_length_header_covers_the_body() {
        let hello = encode_client_hello([5; 16]);
        let len = usize::from(u16::from_be_bytes([hello[0], hello[1]]) & 0x7FFF);
        assert_eq!(len, hello.len() - 2);
        assert_eq!(&hello[2..5], &[1, 0, 2]);
        assert_eq!(hello.len(), 2 + 9 + 21 + 16);
    }

    #[test]
    fn a_server_hello_lists_the_shared_ciphers() {
        let mut body = vec![4, 0, 1, 0, 2, 0, 3, 0, 6, 0, 16];
        body.extend_from_slice(b"abc");
        body.extend_from_slice(&[0x01, 0x00, 0x80, 0x07, 0x00, 0xC0]);
        body.extend_from_slice(&[9; 16]);
        let mut wire = ((body.len() as u16) | 0x8000).to_be_bytes().to_vec();
        wire.extend(&body);
        for cut in 0..wire.len() {
            assert_eq!(read_server_hello(&wire[..cut]), Ok(None), "cut at {cut}");
        }
        let hello = read_server_hello(&wire).expect("ok").expect("complete");
        assert_eq!(hello.certificate, b"abc");
        assert_eq!(
            hello
                .ciphers
                .iter()
                .map(|c| cipher_name(*c))
                .collect::<Vec<_>>(),
            [
                "SSL_CK_RC4_128_WITH_MD5",
                "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"
            ]
        );
    }

    #[test]
    fn a_tls_alert_is_not_an_sslv2_hello() {
        assert!(read_server_hello(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28]).is_err());
    }
}
