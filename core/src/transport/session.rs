//! An established BOLT 8 session: message framing, encryption and key
//! rotation. Sans-I/O: [`Encryptor`] turns a message into bytes to write,
//! [`Decryptor`] is fed bytes as they arrive and yields whole messages.

use bitcoin::secp256k1::PublicKey;

use super::cipher::{MAC_LEN, Secret32, decrypt_in_place, encrypt_in_place, hkdf2};

/// The largest Lightning message body, in bytes.
pub const MAX_MESSAGE_LEN: usize = 65535;
/// Length of the encrypted length prefix: 2 bytes + MAC.
pub const LENGTH_HEADER_LEN: usize = 2 + MAC_LEN;
/// Bytes on the wire added to every message: the length header and the body MAC.
pub const FRAME_OVERHEAD: usize = LENGTH_HEADER_LEN + MAC_LEN;
/// A key is rotated after this many encryptions or decryptions with it
/// (two per message: 500 messages).
const ROTATION_INTERVAL: u64 = 1000;

/// Why a message could not be encrypted or decrypted. After any decryption
/// error the connection must be closed: the stream cannot be resynchronised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The message to send is longer than [`MAX_MESSAGE_LEN`]; nothing was
    /// encrypted and the nonce did not move.
    #[error("message of {len} bytes exceeds the 65535-byte limit")]
    MessageTooLong {
        /// Its length.
        len: usize,
    },
    /// The encrypted length prefix did not authenticate.
    #[error("bad MAC on the message length")]
    BadLengthMac,
    /// The message body did not authenticate.
    #[error("bad MAC on the message body")]
    BadMessageMac,
    /// An earlier decryption failed; this decryptor is dead.
    #[error("receive stream already failed")]
    Failed,
}

/// One direction's cipher state: key, nonce and its own chaining key.
struct CipherState {
    ck: Secret32,
    key: Secret32,
    nonce: u64,
}

impl CipherState {
    fn new(ck: Secret32, key: Secret32) -> Self {
        CipherState { ck, key, nonce: 0 }
    }

    /// Advance the nonce after one use, rotating at 1000:
    /// `ck', k' = HKDF(ck, k)`, `n = 0`.
    fn advance(&mut self) {
        self.nonce += 1;
        if self.nonce == ROTATION_INTERVAL {
            let (ck, key) = hkdf2(&self.ck.0, &self.key.0);
            self.ck = ck;
            self.key = key;
            self.nonce = 0;
        }
    }

    fn encrypt(&mut self, buf: &mut [u8]) -> [u8; MAC_LEN] {
        let tag = encrypt_in_place(&self.key.0, self.nonce, &[], buf);
        self.advance();
        tag
    }

    fn decrypt(&mut self, buf: &mut [u8], tag: &[u8; MAC_LEN]) -> Result<(), ()> {
        decrypt_in_place(&self.key.0, self.nonce, &[], buf, tag)?;
        self.advance();
        Ok(())
    }
}

/// The sending half of a session.
pub struct Encryptor {
    state: CipherState,
}

impl std::fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encryptor").finish_non_exhaustive()
    }
}

impl Encryptor {
    /// Encrypt one message and append its frame (`lc || c`, `len + 34`
    /// bytes) to `out`. Refuses bodies over [`MAX_MESSAGE_LEN`].
    pub fn encrypt_into(&mut self, msg: &[u8], out: &mut Vec<u8>) -> Result<(), SessionError> {
        let len = u16::try_from(msg.len())
            .map_err(|_| SessionError::MessageTooLong { len: msg.len() })?;
        let start = out.len();
        out.reserve(msg.len() + FRAME_OVERHEAD);
        out.extend_from_slice(&len.to_be_bytes());
        let tag = self.state.encrypt(&mut out[start..start + 2]);
        out.extend_from_slice(&tag);
        let body = out.len();
        out.extend_from_slice(msg);
        let tag = self.state.encrypt(&mut out[body..]);
        out.extend_from_slice(&tag);
        Ok(())
    }

    /// Encrypt one message into a new buffer.
    pub fn encrypt(&mut self, msg: &[u8]) -> Result<Vec<u8>, SessionError> {
        let mut out = Vec::with_capacity(msg.len() + FRAME_OVERHEAD);
        self.encrypt_into(msg, &mut out)?;
        Ok(out)
    }
}

/// The receiving half of a session: feed it bytes in any chunking, take
/// whole messages out.
///
/// It buffers what it is fed; a caller reading from a socket should drain
/// [`next_message`](Self::next_message) before reading more, which bounds
/// the buffer to one read plus one frame (at most 65569 bytes).
pub struct Decryptor {
    state: CipherState,
    buf: Vec<u8>,
    /// Start of unconsumed bytes in `buf`.
    pos: usize,
    /// Body length once its header has been decrypted (the nonce has moved).
    pending_body: Option<usize>,
    failed: bool,
}

impl std::fmt::Debug for Decryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decryptor")
            .field("buffered", &(self.buf.len() - self.pos))
            .field("pending_body", &self.pending_body)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl Decryptor {
    /// Append received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.failed {
            return;
        }
        // Compact before growing, so consumed bytes do not accumulate.
        if self.pos > 0 && (self.pos == self.buf.len() || self.pos >= 64 * 1024) {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes still needed before the next step (length header or body) can
    /// complete; 0 if [`next_message`](Self::next_message) can make progress.
    pub fn bytes_needed(&self) -> usize {
        let have = self.buf.len() - self.pos;
        let want = match self.pending_body {
            None => LENGTH_HEADER_LEN,
            Some(len) => len + MAC_LEN,
        };
        want.saturating_sub(have)
    }

    /// The next complete message, `Ok(None)` if more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, SessionError> {
        if self.failed {
            return Err(SessionError::Failed);
        }
        let result = self.step();
        if result.is_err() {
            self.failed = true;
            self.buf = Vec::new();
            self.pos = 0;
        }
        result
    }

    fn step(&mut self) -> Result<Option<Vec<u8>>, SessionError> {
        let len = match self.pending_body {
            Some(len) => len,
            None => {
                if self.buf.len() - self.pos < LENGTH_HEADER_LEN {
                    return Ok(None);
                }
                let header = &self.buf[self.pos..self.pos + LENGTH_HEADER_LEN];
                let mut len_bytes = [header[0], header[1]];
                let mut tag = [0u8; MAC_LEN];
                tag.copy_from_slice(&header[2..]);
                self.state
                    .decrypt(&mut len_bytes, &tag)
                    .map_err(|()| SessionError::BadLengthMac)?;
                self.pos += LENGTH_HEADER_LEN;
                let len = usize::from(u16::from_be_bytes(len_bytes));
                self.pending_body = Some(len);
                len
            }
        };
        if self.buf.len() - self.pos < len + MAC_LEN {
            return Ok(None);
        }
        let mut body = self.buf[self.pos..self.pos + len].to_vec();
        let mut tag = [0u8; MAC_LEN];
        tag.copy_from_slice(&self.buf[self.pos + len..self.pos + len + MAC_LEN]);
        self.state
            .decrypt(&mut body, &tag)
            .map_err(|()| SessionError::BadMessageMac)?;
        self.pos += len + MAC_LEN;
        self.pending_body = None;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        Ok(Some(body))
    }

    /// True if no bytes of a partial frame are buffered (a clean point to
    /// see end-of-stream).
    pub fn is_at_message_boundary(&self) -> bool {
        self.pending_body.is_none() && self.pos == self.buf.len()
    }
}

/// Both directions of an established session and the peer's node id.
pub struct Session {
    encryptor: Encryptor,
    decryptor: Decryptor,
    remote_node_id: PublicKey,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("remote_node_id", &self.remote_node_id)
            .field("decryptor", &self.decryptor)
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(ck: Secret32, sk: Secret32, rk: Secret32, remote_node_id: PublicKey) -> Self {
        Session {
            encryptor: Encryptor {
                state: CipherState::new(ck.clone(), sk),
            },
            decryptor: Decryptor {
                state: CipherState::new(ck, rk),
                buf: Vec::new(),
                pos: 0,
                pending_body: None,
                failed: false,
            },
            remote_node_id,
        }
    }

    /// A session from raw keys, as BOLT 8's message test vector gives them.
    /// Real sessions come from a handshake; this exists for vectors and
    /// interop tests.
    pub fn from_keys(
        chaining_key: [u8; 32],
        sending_key: [u8; 32],
        receiving_key: [u8; 32],
        remote_node_id: PublicKey,
    ) -> Self {
        Session::new(
            Secret32(chaining_key),
            Secret32(sending_key),
            Secret32(receiving_key),
            remote_node_id,
        )
    }

    /// The peer's authenticated node id.
    pub fn remote_node_id(&self) -> PublicKey {
        self.remote_node_id
    }

    /// Encrypt one message; see [`Encryptor::encrypt`].
    pub fn encrypt(&mut self, msg: &[u8]) -> Result<Vec<u8>, SessionError> {
        self.encryptor.encrypt(msg)
    }

    /// Encrypt one message, appending to `out`; see [`Encryptor::encrypt_into`].
    pub fn encrypt_into(&mut self, msg: &[u8], out: &mut Vec<u8>) -> Result<(), SessionError> {
        self.encryptor.encrypt_into(msg, out)
    }

    /// Feed received bytes; see [`Decryptor::feed`].
    pub fn feed(&mut self, bytes: &[u8]) {
        self.decryptor.feed(bytes)
    }

    /// The next complete received message; see [`Decryptor::next_message`].
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, SessionError> {
        self.decryptor.next_message()
    }

    /// The receiving half, e.g. to check [`Decryptor::bytes_needed`].
    pub fn decryptor(&self) -> &Decryptor {
        &self.decryptor
    }

    /// Split into sending and receiving halves (for separate reader and
    /// writer tasks).
    pub fn split(self) -> (Encryptor, Decryptor) {
        (self.encryptor, self.decryptor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::secp256k1::SecretKey;

    fn pair() -> (Session, Session) {
        let id = SecretKey::from_slice(&[3; 32])
            .map(|k| k.public_key(super::super::cipher::secp()))
            .expect("key");
        let (ck, k1, k2) = ([1u8; 32], [2u8; 32], [4u8; 32]);
        (
            Session::from_keys(ck, k1, k2, id),
            Session::from_keys(ck, k2, k1, id),
        )
    }

    #[test]
    fn rotation_happens_every_500_messages_per_direction() {
        let (mut a, mut b) = pair();
        let first_key = a.encryptor.state.key.0;
        for i in 1..=1001u32 {
            let wire = a.encrypt(&i.to_le_bytes()).expect("encrypt");
            b.feed(&wire);
            assert_eq!(
                b.next_message().expect("ok"),
                Some(i.to_le_bytes().to_vec())
            );
            let n = a.encryptor.state.nonce;
            assert_eq!(n, (2 * u64::from(i)) % 1000, "nonce after message {i}");
            assert_eq!(b.decryptor.state.nonce, n);
            assert_eq!(a.encryptor.state.key.0, b.decryptor.state.key.0);
            if i < 500 {
                assert_eq!(a.encryptor.state.key.0, first_key);
            } else {
                assert_ne!(a.encryptor.state.key.0, first_key);
            }
        }
        // The other direction did not move.
        assert_eq!(b.encryptor.state.nonce, 0);
        assert_eq!(a.decryptor.state.nonce, 0);
    }

    #[test]
    fn byte_at_a_time_and_bytes_needed() {
        let (mut a, mut b) = pair();
        let mut wire = a.encrypt(b"hello").expect("encrypt");
        a.encrypt_into(b"", &mut wire).expect("encrypt");
        assert_eq!(b.decryptor().bytes_needed(), LENGTH_HEADER_LEN);
        let mut got = Vec::new();
        for (i, byte) in wire.iter().enumerate() {
            b.feed(&[*byte]);
            while let Some(m) = b.next_message().expect("ok") {
                got.push(m);
            }
            if i == LENGTH_HEADER_LEN - 1 {
                assert_eq!(b.decryptor().bytes_needed(), 5 + MAC_LEN);
                assert!(!b.decryptor().is_at_message_boundary());
            }
        }
        assert_eq!(got, vec![b"hello".to_vec(), Vec::new()]);
        assert!(b.decryptor().is_at_message_boundary());
    }

    #[test]
    fn oversized_refused_without_moving_the_nonce() {
        let (mut a, _) = pair();
        let err = a.encrypt(&vec![0; MAX_MESSAGE_LEN + 1]);
        assert_eq!(err, Err(SessionError::MessageTooLong { len: 65536 }));
        assert_eq!(a.encryptor.state.nonce, 0);
        let wire = a.encrypt(&vec![0; MAX_MESSAGE_LEN]).expect("max");
        assert_eq!(wire.len(), MAX_MESSAGE_LEN + FRAME_OVERHEAD);
    }

    #[test]
    fn failure_is_sticky() {
        let (mut a, mut b) = pair();
        let mut wire = a.encrypt(b"x").expect("encrypt");
        let last = wire.len() - 1;
        wire[last] ^= 1;
        b.feed(&wire);
        assert_eq!(b.next_message(), Err(SessionError::BadMessageMac));
        b.feed(&a.encrypt(b"y").expect("encrypt"));
        assert_eq!(b.next_message(), Err(SessionError::Failed));
    }
}
