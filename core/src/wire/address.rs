//! BOLT 7 address descriptors (`node_announcement` `addresses`, `init`
//! `remote_addr`).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::codec::{Reader, Writer};
use super::error::{DecodeError, EncodeError};

/// One address descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NetAddress {
    /// Type 1: IPv4 address and port.
    Ipv4(Ipv4Addr, u16),
    /// Type 2: IPv6 address and port.
    Ipv6(Ipv6Addr, u16),
    /// Type 3: Tor v2 (deprecated; readers must ignore it): 10 bytes and port.
    TorV2([u8; 10], u16),
    /// Type 4: Tor v3: 32-byte key, 2-byte checksum, version byte, port.
    TorV3([u8; 35], u16),
    /// Type 5: DNS hostname (ASCII, at most 255 bytes) and port.
    Hostname(String, u16),
}

impl NetAddress {
    /// The descriptor type byte.
    pub fn type_byte(&self) -> u8 {
        match self {
            NetAddress::Ipv4(..) => 1,
            NetAddress::Ipv6(..) => 2,
            NetAddress::TorV2(..) => 3,
            NetAddress::TorV3(..) => 4,
            NetAddress::Hostname(..) => 5,
        }
    }

    /// Read one descriptor. `Ok(None)` for an unknown type: its length is
    /// unknown, so the rest of the list cannot be parsed (BOLT 7: ignore it).
    pub fn read(r: &mut Reader<'_>) -> Result<Option<NetAddress>, DecodeError> {
        let ty: u8 = r.read()?;
        Ok(Some(match ty {
            1 => NetAddress::Ipv4(Ipv4Addr::from(r.read::<[u8; 4]>()?), r.read()?),
            2 => NetAddress::Ipv6(Ipv6Addr::from(r.read::<[u8; 16]>()?), r.read()?),
            3 => NetAddress::TorV2(r.read()?, r.read()?),
            4 => NetAddress::TorV3(r.read()?, r.read()?),
            5 => {
                let len: u8 = r.read()?;
                let name = r.read_bytes(usize::from(len))?;
                if !name.is_ascii() {
                    return Err(DecodeError::InvalidValue {
                        field: "hostname",
                        reason: "not ASCII",
                    });
                }
                let name = String::from_utf8_lossy(name).into_owned();
                NetAddress::Hostname(name, r.read()?)
            }
            _ => return Ok(None),
        }))
    }

    /// Append the descriptor.
    pub fn write(&self, w: &mut Writer) {
        w.put(&[self.type_byte()]);
        let port = match self {
            NetAddress::Ipv4(a, p) => {
                w.put(&a.octets());
                p
            }
            NetAddress::Ipv6(a, p) => {
                w.put(&a.octets());
                p
            }
            NetAddress::TorV2(k, p) => {
                w.put(k);
                p
            }
            NetAddress::TorV3(k, p) => {
                w.put(k);
                p
            }
            NetAddress::Hostname(h, p) => {
                match u8::try_from(h.len()) {
                    Ok(n) if h.is_ascii() => {
                        w.put(&[n]);
                        w.put(h.as_bytes());
                    }
                    _ => w.fail(EncodeError::TooLong {
                        what: "hostname (ASCII)",
                        len: h.len(),
                        max: 255,
                    }),
                }
                p
            }
        };
        w.write(port);
    }

    /// Parse a concatenated list, stopping at the first unknown type.
    pub fn parse_list(bytes: &[u8]) -> Result<Vec<NetAddress>, DecodeError> {
        let mut r = Reader::new(bytes);
        let mut out = Vec::new();
        while !r.is_empty() {
            match NetAddress::read(&mut r)? {
                Some(a) => out.push(a),
                None => break,
            }
        }
        Ok(out)
    }

    /// Encode a list (for `node_announcement` `addresses`).
    pub fn encode_list(list: &[NetAddress]) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new();
        for a in list {
            a.write(&mut w);
        }
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_unknown_stops() {
        let list = vec![
            NetAddress::Ipv4(Ipv4Addr::new(127, 0, 0, 1), 9735),
            NetAddress::Ipv6(Ipv6Addr::LOCALHOST, 9736),
            NetAddress::TorV3([7; 35], 9737),
            NetAddress::Hostname("node.example.com".into(), 9738),
        ];
        let mut bytes = NetAddress::encode_list(&list).unwrap();
        assert_eq!(hex::encode(&bytes[..7]), "017f0000012607");
        assert_eq!(NetAddress::parse_list(&bytes).unwrap(), list);
        bytes.extend_from_slice(&[9, 1, 2, 3]);
        assert_eq!(NetAddress::parse_list(&bytes).unwrap(), list);
        assert_eq!(
            NetAddress::parse_list(&[1, 127, 0]),
            Err(DecodeError::UnexpectedEof)
        );
        assert!(NetAddress::parse_list(&[5, 1, 0xff, 0, 1]).is_err());
    }
}
