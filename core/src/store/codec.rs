//! Key and value encodings: [`KeyCodec`] and [`Record`], with the impls the
//! store ships.

/// Encodes a key to bytes whose byte-wise (lexicographic) order is the order
/// of the keys.
///
/// The store compares encoded keys as raw bytes, so `scan_prefix` and every
/// scan return entries in the order of the encoded bytes. An implementation
/// must make `decode_key(&k.encode_key()) == Ok(k)`.
pub trait KeyCodec: Sized {
    /// Encode the key.
    fn encode_key(&self) -> Vec<u8>;
    /// Decode a key read back from the database. Bad bytes are an `Err`
    /// (the store reports it as [`StoreError::Corrupt`](super::StoreError::Corrupt)),
    /// never a panic.
    fn decode_key(bytes: &[u8]) -> Result<Self, String>;
}

/// A stored value with a versioned encoding.
///
/// On disk a value is `[version: u8][body]`: the store writes
/// [`Record::VERSION`] followed by what [`Record::encode_body`] produced, and on
/// read hands the stored version byte and the body to
/// [`Record::decode_body`]. That is the per-record migration path: when a
/// record's layout changes, bump `VERSION` and keep decoding the older
/// versions in `decode_body`; records are rewritten in the new layout the next
/// time they are written. A version the decoder does not know, or a body that
/// does not parse, must be an `Err` (reported as
/// [`StoreError::Corrupt`](super::StoreError::Corrupt)), never a panic.
///
/// The body may be at most [`MAX_VALUE_LEN`](super::MAX_VALUE_LEN) bytes;
/// a commit holding a larger one is refused with
/// [`StoreError::ValueTooLarge`](super::StoreError::ValueTooLarge).
pub trait Record: Sized {
    /// Current encoding version written by this build.
    const VERSION: u8;
    /// Encode the body (without the version byte), appending to `out`.
    fn encode_body(&self, out: &mut Vec<u8>);
    /// Decode a body written with `version`.
    fn decode_body(version: u8, body: &[u8]) -> Result<Self, String>;
}

impl KeyCodec for Vec<u8> {
    fn encode_key(&self) -> Vec<u8> {
        self.clone()
    }
    fn decode_key(bytes: &[u8]) -> Result<Self, String> {
        Ok(bytes.to_vec())
    }
}

/// UTF-8 bytes; byte order of UTF-8 is code point order.
impl KeyCodec for String {
    fn encode_key(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
    fn decode_key(bytes: &[u8]) -> Result<Self, String> {
        String::from_utf8(bytes.to_vec()).map_err(|e| format!("key is not UTF-8: {e}"))
    }
}

/// Eight bytes, big-endian, so byte order is numeric order.
impl KeyCodec for u64 {
    fn encode_key(&self) -> Vec<u8> {
        self.to_be_bytes().to_vec()
    }
    fn decode_key(bytes: &[u8]) -> Result<Self, String> {
        let arr: [u8; 8] = bytes
            .try_into()
            .map_err(|_| format!("u64 key must be 8 bytes, found {}", bytes.len()))?;
        Ok(u64::from_be_bytes(arr))
    }
}

/// Fixed-size byte arrays (hashes, channel ids, node ids), stored as is.
impl<const N: usize> KeyCodec for [u8; N] {
    fn encode_key(&self) -> Vec<u8> {
        self.to_vec()
    }
    fn decode_key(bytes: &[u8]) -> Result<Self, String> {
        bytes
            .try_into()
            .map_err(|_| format!("key must be {N} bytes, found {}", bytes.len()))
    }
}

/// Raw bytes, version 1 (used by tests and tools; real records should have
/// their own typed encodings).
/// A u64 (an index, a counter, a sequence number), version 1: the 8 bytes
/// big-endian.
impl Record for u64 {
    const VERSION: u8 = 1;
    fn encode_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
    fn decode_body(version: u8, body: &[u8]) -> Result<Self, String> {
        if version != 1 {
            return Err(format!("u64 record: unknown version {version}"));
        }
        let arr: [u8; 8] = body
            .try_into()
            .map_err(|_| format!("u64 record is {} bytes, expected 8", body.len()))?;
        Ok(u64::from_be_bytes(arr))
    }
}

impl Record for Vec<u8> {
    const VERSION: u8 = 1;
    fn encode_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn decode_body(version: u8, body: &[u8]) -> Result<Self, String> {
        if version != 1 {
            return Err(format!("raw bytes record: unknown version {version}"));
        }
        Ok(body.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u64_keys_sort_numerically() {
        let mut keys: Vec<u64> = vec![0, 1, 255, 256, 65_535, u64::MAX, 7];
        let mut encoded: Vec<Vec<u8>> = keys.iter().map(KeyCodec::encode_key).collect();
        keys.sort();
        encoded.sort();
        let decoded: Vec<u64> = encoded
            .iter()
            .map(|b| u64::decode_key(b).expect("decode"))
            .collect();
        assert_eq!(keys, decoded);
    }

    #[test]
    fn bad_keys_are_errors() {
        assert!(u64::decode_key(&[1, 2, 3]).is_err());
        assert!(String::decode_key(&[0xff, 0xfe]).is_err());
        assert!(<[u8; 32]>::decode_key(&[0; 31]).is_err());
        assert_eq!(<[u8; 2]>::decode_key(&[4, 5]), Ok([4, 5]));
    }

    #[test]
    fn raw_record_rejects_unknown_version() {
        assert!(Vec::<u8>::decode_body(2, b"x").is_err());
        assert_eq!(Vec::<u8>::decode_body(1, b"x"), Ok(b"x".to_vec()));
    }

    #[test]
    fn u64_record_is_version_1_eight_bytes_big_endian() {
        // The layout the invoice indexes and the bench's head were written
        // with before they shared this impl.
        assert_eq!(<u64 as Record>::VERSION, 1);
        let mut out = Vec::new();
        0x0102_0304_0506_0708u64.encode_body(&mut out);
        assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(u64::decode_body(1, &out), Ok(0x0102_0304_0506_0708));
        assert!(u64::decode_body(1, &out[..7]).is_err());
        assert!(u64::decode_body(2, &out).is_err());
    }
}
