//! Reading the Connection ID out of a received DTLS 1.2 datagram, so an
//! application can route it to its connection by CID rather than by the
//! sender's address (which changes on NAT rebinding). The CID's length is
//! not on the wire: the receiver knows its own (RFC 9146 §4).

use crate::error::{Error, Result};

/// Record content type of a record with a CID (RFC 9146 §4, tls12_cid).
const TLS12_CID: u8 = 25;
/// DTLS 1.2 on the wire ({254, 253}).
const DTLS1_2: [u8; 2] = [0xfe, 0xfd];
/// type(1) version(2) epoch(2) sequence_number(6), before the CID.
const BEFORE_CID: usize = 11;

/// The CID of the first record of `datagram`, `cid_len` bytes long.
/// NOT_AVAILABLE when that record is not a tls12_cid record (a handshake
/// datagram, a peer without CIDs: route it by address);
/// INVALID_ARGUMENT when it claims to be one but is malformed.
pub fn datagram_cid(datagram: &[u8], cid_len: usize) -> Result<&[u8]> {
    match datagram.first() {
        None => return Err(Error::invalid_arg("the datagram is empty")),
        Some(&TLS12_CID) => {}
        Some(&t) => {
            return Err(Error::not_available(format!(
                "the datagram's first record has content type {t}, not tls12_cid (25): \
                 it carries no Connection ID"
            )))
        }
    }
    let header = BEFORE_CID + cid_len + 2;
    if datagram.len() < header {
        return Err(Error::invalid_arg(format!(
            "a tls12_cid record with a {cid_len}-byte CID has a {header}-byte header; \
             the datagram holds {} bytes",
            datagram.len()
        )));
    }
    if datagram[1..3] != DTLS1_2 {
        return Err(Error::invalid_arg(format!(
            "record version {:02x}{:02x} is not DTLS 1.2 (fefd)",
            datagram[1], datagram[2]
        )));
    }
    let body = u16::from_be_bytes([datagram[header - 2], datagram[header - 1]]) as usize;
    if body > datagram.len() - header {
        return Err(Error::invalid_arg(format!(
            "the record's length ({body}) runs past the datagram's end ({} bytes after \
             the header; is the CID length {cid_len} right?)",
            datagram.len() - header
        )));
    }
    Ok(&datagram[BEFORE_CID..BEFORE_CID + cid_len])
}

#[cfg(test)]
mod tests {
    use super::datagram_cid;
    use crate::error::Code;

    fn record(cid: &[u8], body: &[u8]) -> Vec<u8> {
        let mut r = vec![25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 7];
        r.extend_from_slice(cid);
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    #[test]
    fn reads_the_cid() {
        let d = record(b"abcd", &[9; 40]);
        assert_eq!(datagram_cid(&d, 4).unwrap(), b"abcd");
    }

    #[test]
    fn refuses_what_is_not_a_cid_record() {
        let mut d = record(b"abcd", &[9; 40]);
        d[0] = 23;
        assert_eq!(
            datagram_cid(&d, 4).unwrap_err().code,
            Code::MOJO_TLS_ERR_NOT_AVAILABLE
        );
        let d = record(b"abcd", &[9; 40]);
        for cut in [1, 12, 16] {
            let e = datagram_cid(&d[..cut], 4).unwrap_err();
            assert_eq!(e.code, Code::MOJO_TLS_ERR_INVALID_ARGUMENT, "cut {cut}");
        }
        // A wrong CID length misreads the length field.
        assert!(datagram_cid(&d, 8).is_err());
        let mut d = d;
        d[2] = 0xff;
        assert!(datagram_cid(&d, 4).is_err());
    }
}
