//! The BOLT 8 handshake: `Noise_XK_secp256k1_ChaChaPoly_SHA256`, prologue
//! `lightning`, three acts of 50, 50 and 66 bytes.
//!
//! Sans-I/O and typestate: each side is a chain of values, each consuming
//! the previous one, so an act can be processed once and a failed handshake
//! cannot be continued.
//!
//! ```text
//! initiator                                         responder
//! InitiatorHandshake::new ── act one (50) ──▶ ResponderHandshake::process_act_one
//! process_act_two        ◀── act two (50) ──  (ResponderAwaitingActThree)
//! (Session)              ── act three (66) ─▶ process_act_three (Session)
//! ```

use bitcoin::secp256k1::rand::rngs::OsRng;
use bitcoin::secp256k1::{PublicKey, SecretKey};

use super::cipher::{
    MAC_LEN, Secret32, decrypt_in_place, ecdh, encrypt_in_place, hkdf2, secp, sha256_concat,
};
use super::session::Session;

/// Length of act one (initiator → responder).
pub const ACT_ONE_LEN: usize = 50;
/// Length of act two (responder → initiator).
pub const ACT_TWO_LEN: usize = 50;
/// Length of act three (initiator → responder).
pub const ACT_THREE_LEN: usize = 66;

/// The only handshake version this implementation speaks.
const VERSION: u8 = 0;
const PROTOCOL_NAME: &[u8] = b"Noise_XK_secp256k1_ChaChaPoly_SHA256";
const PROLOGUE: &[u8] = b"lightning";

/// The node's static key, as far as the transport needs it: its public key
/// and ECDH with it. Implemented for [`SecretKey`]; the signer (which owns
/// the node key) can implement it so the secret never leaves it.
pub trait NodeKey {
    /// The static public key (the node id).
    fn node_id(&self) -> PublicKey;
    /// `SHA-256(compressed(point × node secret))`: BOLT 8's `ECDH`.
    fn ecdh(&self, point: &PublicKey) -> [u8; 32];
}

impl NodeKey for SecretKey {
    fn node_id(&self) -> PublicKey {
        PublicKey::from_secret_key(secp(), self)
    }
    fn ecdh(&self, point: &PublicKey) -> [u8; 32] {
        ecdh(point, self)
    }
}

impl<T: NodeKey + ?Sized> NodeKey for &T {
    fn node_id(&self) -> PublicKey {
        (**self).node_id()
    }
    fn ecdh(&self, point: &PublicKey) -> [u8; 32] {
        (**self).ecdh(point)
    }
}

impl<T: NodeKey + ?Sized> NodeKey for std::sync::Arc<T> {
    fn node_id(&self) -> PublicKey {
        (**self).node_id()
    }
    fn ecdh(&self, point: &PublicKey) -> [u8; 32] {
        (**self).ecdh(point)
    }
}

/// Which act of the handshake an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Act one: `-> e, es`.
    One,
    /// Act two: `<- e, ee`.
    Two,
    /// Act three: `-> s, se`.
    Three,
}

impl std::fmt::Display for Act {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Act::One => "act one",
            Act::Two => "act two",
            Act::Three => "act three",
        })
    }
}

/// Why a handshake failed. Every variant means: close the connection without
/// sending anything further.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The act was not exactly its fixed length (the spec's `READ_FAILED`).
    #[error("{act}: expected {expected} bytes, got {got}")]
    WrongLength {
        /// The act.
        act: Act,
        /// Its fixed length.
        expected: usize,
        /// What was given.
        got: usize,
    },
    /// The leading version byte is not 0 (`BAD_VERSION`).
    #[error("{act}: unknown handshake version {version}")]
    BadVersion {
        /// The act.
        act: Act,
        /// The version byte received.
        version: u8,
    },
    /// An ephemeral key (acts one and two) or the decrypted static key (act
    /// three) is not a valid compressed secp256k1 point (`BAD_PUBKEY`).
    #[error("{act}: invalid public key")]
    BadPublicKey {
        /// The act.
        act: Act,
    },
    /// The act's final authentication tag did not verify (`BAD_TAG`). In act
    /// one this means the initiator does not know our node id.
    #[error("{act}: bad MAC")]
    BadMac {
        /// The act.
        act: Act,
    },
    /// Act three's encrypted static key did not authenticate
    /// (`ACT3_BAD_CIPHERTEXT`).
    #[error("act three: bad MAC on the encrypted static key")]
    BadStaticKeyMac,
}

impl HandshakeError {
    /// The error's label in BOLT 8's test vectors, e.g. `ACT2_BAD_VERSION`.
    pub fn spec_label(&self) -> &'static str {
        use Act::*;
        use HandshakeError::*;
        match self {
            WrongLength { act: One, .. } => "ACT1_READ_FAILED",
            WrongLength { act: Two, .. } => "ACT2_READ_FAILED",
            WrongLength { act: Three, .. } => "ACT3_READ_FAILED",
            BadVersion { act: One, .. } => "ACT1_BAD_VERSION",
            BadVersion { act: Two, .. } => "ACT2_BAD_VERSION",
            BadVersion { act: Three, .. } => "ACT3_BAD_VERSION",
            BadPublicKey { act: One } => "ACT1_BAD_PUBKEY",
            BadPublicKey { act: Two } => "ACT2_BAD_PUBKEY",
            BadPublicKey { act: Three } => "ACT3_BAD_PUBKEY",
            BadMac { act: One } => "ACT1_BAD_TAG",
            BadMac { act: Two } => "ACT2_BAD_TAG",
            BadMac { act: Three } => "ACT3_BAD_TAG",
            BadStaticKeyMac => "ACT3_BAD_CIPHERTEXT",
        }
    }
}

/// `ck` and `h`, the state both sides carry through the acts.
#[derive(Clone)]
struct Symmetric {
    ck: Secret32,
    h: [u8; 32],
}

impl Symmetric {
    /// Initialisation, including mixing in the responder's static key.
    fn new(responder_static: &PublicKey) -> Self {
        let h0 = sha256_concat(PROTOCOL_NAME, &[]);
        let ck = Secret32(h0);
        let h = sha256_concat(&h0, PROLOGUE);
        let mut s = Symmetric { ck, h };
        s.mix_hash(&responder_static.serialize());
        s
    }

    fn mix_hash(&mut self, data: &[u8]) {
        self.h = sha256_concat(&self.h, data);
    }

    /// `ck, temp_k = HKDF(ck, ss)`; returns `temp_k`.
    fn mix_key(&mut self, mut ss: [u8; 32]) -> Secret32 {
        let (ck, temp_k) = hkdf2(&self.ck.0, &ss);
        ss.fill(0);
        self.ck = ck;
        temp_k
    }

    /// Final `HKDF(ck, zero)` → (first, second) keys and the chaining key.
    fn split(self) -> (Secret32, Secret32, Secret32) {
        let (a, b) = hkdf2(&self.ck.0, &[]);
        (self.ck.clone(), a, b)
    }
}

/// Build `0 || e.pub || c` for acts one and two (the sender's half).
/// Returns the act and `temp_k`.
fn write_ephemeral_act(
    sym: &mut Symmetric,
    ephemeral: &SecretKey,
    remote_point: &PublicKey,
) -> ([u8; 50], Secret32) {
    let e_pub = PublicKey::from_secret_key(secp(), ephemeral).serialize();
    sym.mix_hash(&e_pub);
    let temp_k = sym.mix_key(ecdh(remote_point, ephemeral));
    let tag = encrypt_in_place(&temp_k.0, 0, &sym.h, &mut []);
    sym.mix_hash(&tag);
    let mut out = [0u8; 50];
    out[0] = VERSION;
    out[1..34].copy_from_slice(&e_pub);
    out[34..].copy_from_slice(&tag);
    (out, temp_k)
}

/// Check and absorb acts one and two (the receiver's half). `ecdh_with`
/// computes the act's DH with the received ephemeral key. Returns the remote
/// ephemeral key and `temp_k`.
fn read_ephemeral_act(
    sym: &mut Symmetric,
    act: Act,
    input: &[u8],
    ecdh_with: impl FnOnce(&PublicKey) -> [u8; 32],
) -> Result<(PublicKey, Secret32), HandshakeError> {
    if input.len() != 50 {
        return Err(HandshakeError::WrongLength {
            act,
            expected: 50,
            got: input.len(),
        });
    }
    if input[0] != VERSION {
        return Err(HandshakeError::BadVersion {
            act,
            version: input[0],
        });
    }
    let re_bytes = &input[1..34];
    let re = parse_compressed(re_bytes).ok_or(HandshakeError::BadPublicKey { act })?;
    let mut tag = [0u8; MAC_LEN];
    tag.copy_from_slice(&input[34..]);
    sym.mix_hash(re_bytes);
    let temp_k = sym.mix_key(ecdh_with(&re));
    decrypt_in_place(&temp_k.0, 0, &sym.h, &mut [], &tag)
        .map_err(|()| HandshakeError::BadMac { act })?;
    sym.mix_hash(&tag);
    Ok((re, temp_k))
}

/// Only the 33-byte compressed encoding is acceptable on the wire.
fn parse_compressed(bytes: &[u8]) -> Option<PublicKey> {
    if bytes.len() != 33 || (bytes[0] != 0x02 && bytes[0] != 0x03) {
        return None;
    }
    PublicKey::from_slice(bytes).ok()
}

fn random_ephemeral() -> SecretKey {
    SecretKey::new(&mut OsRng)
}

/// The ephemeral secret, overwritten when dropped (best effort:
/// `SecretKey` is `Copy`, and the write may be elided).
struct Ephemeral(SecretKey);

impl Drop for Ephemeral {
    fn drop(&mut self) {
        self.0.non_secure_erase();
    }
}

fn redacted(
    f: &mut std::fmt::Formatter<'_>,
    name: &str,
    remote: Option<&PublicKey>,
) -> std::fmt::Result {
    let mut d = f.debug_struct(name);
    if let Some(r) = remote {
        d.field("remote_node_id", r);
    }
    d.finish_non_exhaustive()
}

/// The initiator after sending act one, waiting for act two.
pub struct InitiatorHandshake<K: NodeKey> {
    local: K,
    remote: PublicKey,
    ephemeral: Ephemeral,
    sym: Symmetric,
}

impl<K: NodeKey> std::fmt::Debug for InitiatorHandshake<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        redacted(f, "InitiatorHandshake", Some(&self.remote))
    }
}

impl<K: NodeKey> InitiatorHandshake<K> {
    /// Start a handshake with `remote` (its node id) using a fresh ephemeral
    /// key from the OS RNG. Returns the state and act one to send.
    pub fn new(local: K, remote: PublicKey) -> (Self, [u8; ACT_ONE_LEN]) {
        Self::with_ephemeral(local, remote, random_ephemeral())
    }

    /// As [`new`](Self::new) with a chosen ephemeral key. Only for test
    /// vectors: reusing an ephemeral key breaks the protocol's secrecy.
    pub fn with_ephemeral(
        local: K,
        remote: PublicKey,
        ephemeral: SecretKey,
    ) -> (Self, [u8; ACT_ONE_LEN]) {
        let mut sym = Symmetric::new(&remote);
        let (act_one, _temp_k1) = write_ephemeral_act(&mut sym, &ephemeral, &remote);
        (
            InitiatorHandshake {
                local,
                remote,
                ephemeral: Ephemeral(ephemeral),
                sym,
            },
            act_one,
        )
    }

    /// Process act two (exactly [`ACT_TWO_LEN`] bytes). On success returns
    /// act three to send and the established session; the session may send
    /// immediately after act three.
    pub fn process_act_two(
        self,
        act_two: &[u8],
    ) -> Result<([u8; ACT_THREE_LEN], Session), HandshakeError> {
        let InitiatorHandshake {
            local,
            remote,
            ephemeral,
            mut sym,
        } = self;
        let (re, temp_k2) =
            read_ephemeral_act(&mut sym, Act::Two, act_two, |re| ecdh(re, &ephemeral.0))?;

        let mut out = [0u8; ACT_THREE_LEN];
        out[0] = VERSION;
        out[1..34].copy_from_slice(&local.node_id().serialize());
        let tag = encrypt_in_place(&temp_k2.0, 1, &sym.h, &mut out[1..34]);
        out[34..50].copy_from_slice(&tag);
        sym.mix_hash(&out[1..50]);
        let temp_k3 = sym.mix_key(local.ecdh(&re));
        let t = encrypt_in_place(&temp_k3.0, 0, &sym.h, &mut []);
        out[50..].copy_from_slice(&t);
        let (ck, sk, rk) = sym.split();
        Ok((out, Session::new(ck, sk, rk, remote)))
    }
}

/// The responder waiting for act one.
pub struct ResponderHandshake<K: NodeKey> {
    local: K,
    ephemeral: Ephemeral,
    sym: Symmetric,
}

impl<K: NodeKey> std::fmt::Debug for ResponderHandshake<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        redacted(f, "ResponderHandshake", None)
    }
}

impl<K: NodeKey> ResponderHandshake<K> {
    /// Wait for an inbound handshake, with a fresh ephemeral key from the OS RNG.
    pub fn new(local: K) -> Self {
        Self::with_ephemeral(local, random_ephemeral())
    }

    /// As [`new`](Self::new) with a chosen ephemeral key. Only for test vectors.
    pub fn with_ephemeral(local: K, ephemeral: SecretKey) -> Self {
        let sym = Symmetric::new(&local.node_id());
        ResponderHandshake {
            local,
            ephemeral: Ephemeral(ephemeral),
            sym,
        }
    }

    /// Process act one (exactly [`ACT_ONE_LEN`] bytes). Returns the state
    /// waiting for act three and act two to send.
    pub fn process_act_one(
        self,
        act_one: &[u8],
    ) -> Result<(ResponderAwaitingActThree, [u8; ACT_TWO_LEN]), HandshakeError> {
        let ResponderHandshake {
            local,
            ephemeral,
            mut sym,
        } = self;
        let (re, _temp_k1) = read_ephemeral_act(&mut sym, Act::One, act_one, |re| local.ecdh(re))?;
        let (act_two, temp_k2) = write_ephemeral_act(&mut sym, &ephemeral.0, &re);
        Ok((
            ResponderAwaitingActThree {
                ephemeral,
                sym,
                temp_k2,
            },
            act_two,
        ))
    }
}

/// The responder after sending act two, waiting for act three.
pub struct ResponderAwaitingActThree {
    ephemeral: Ephemeral,
    sym: Symmetric,
    temp_k2: Secret32,
}

impl std::fmt::Debug for ResponderAwaitingActThree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        redacted(f, "ResponderAwaitingActThree", None)
    }
}

impl ResponderAwaitingActThree {
    /// Process act three (exactly [`ACT_THREE_LEN`] bytes). On success the
    /// session is established; [`Session::remote_node_id`] is the
    /// initiator's authenticated node id.
    pub fn process_act_three(self, act_three: &[u8]) -> Result<Session, HandshakeError> {
        let ResponderAwaitingActThree {
            ephemeral,
            mut sym,
            temp_k2,
        } = self;
        if act_three.len() != ACT_THREE_LEN {
            return Err(HandshakeError::WrongLength {
                act: Act::Three,
                expected: ACT_THREE_LEN,
                got: act_three.len(),
            });
        }
        if act_three[0] != VERSION {
            return Err(HandshakeError::BadVersion {
                act: Act::Three,
                version: act_three[0],
            });
        }
        let c = &act_three[1..50];
        let mut rs_bytes = [0u8; 33];
        rs_bytes.copy_from_slice(&c[..33]);
        let mut c_tag = [0u8; MAC_LEN];
        c_tag.copy_from_slice(&c[33..]);
        decrypt_in_place(&temp_k2.0, 1, &sym.h, &mut rs_bytes, &c_tag)
            .map_err(|()| HandshakeError::BadStaticKeyMac)?;
        let rs =
            parse_compressed(&rs_bytes).ok_or(HandshakeError::BadPublicKey { act: Act::Three })?;
        sym.mix_hash(c);
        let temp_k3 = sym.mix_key(ecdh(&rs, &ephemeral.0));
        let mut t = [0u8; MAC_LEN];
        t.copy_from_slice(&act_three[50..]);
        decrypt_in_place(&temp_k3.0, 0, &sym.h, &mut [], &t)
            .map_err(|()| HandshakeError::BadMac { act: Act::Three })?;
        let (ck, rk, sk) = sym.split();
        Ok(Session::new(ck, sk, rk, rs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).expect("hex")
    }

    /// The first steps of BOLT 8's initiator trace: h after mixing e, and
    /// the act-one `ss`, `ck`, `temp_k1`.
    #[test]
    fn symmetric_state_follows_the_spec_trace() {
        let rs = PublicKey::from_slice(&h(
            "028d7500dd4c12685d1f568b4c2b5048e8534b873319f3a8daa612b469132ec7f7",
        ))
        .expect("rs");
        let e = SecretKey::from_slice(&[0x12; 32]).expect("e");
        let mut sym = Symmetric::new(&rs);
        sym.mix_hash(&PublicKey::from_secret_key(secp(), &e).serialize());
        assert_eq!(
            sym.h.to_vec(),
            h("9e0e7de8bb75554f21db034633de04be41a2b8a18da7a319a03c803bf02b396c")
        );
        let ss = ecdh(&rs, &e);
        assert_eq!(
            ss.to_vec(),
            h("1e2fb3c8fe8fb9f262f649f64d26ecf0f2c0a805a767cf02dc2d77a6ef1fdcc3")
        );
        let temp_k1 = sym.mix_key(ss);
        assert_eq!(
            sym.ck.0.to_vec(),
            h("b61ec1191326fa240decc9564369dbb3ae2b34341d1e11ad64ed89f89180582f")
        );
        assert_eq!(
            temp_k1.0.to_vec(),
            h("e68f69b7f096d7917245f5e5cf8ae1595febe4d4644333c99f9c4a1282031c9f")
        );
    }

    #[test]
    fn both_sides_derive_mirrored_keys() {
        let ik = SecretKey::from_slice(&[7; 32]).expect("key");
        let rk = SecretKey::from_slice(&[8; 32]).expect("key");
        let (hs, a1) = InitiatorHandshake::new(ik, rk.node_id());
        let (rhs, a2) = ResponderHandshake::new(rk)
            .process_act_one(&a1)
            .expect("act one");
        let (a3, mut i) = hs.process_act_two(&a2).expect("act two");
        let mut r = rhs.process_act_three(&a3).expect("act three");
        assert_eq!(r.remote_node_id(), ik.node_id());
        r.feed(&i.encrypt(b"ping").expect("encrypt"));
        assert_eq!(r.next_message().expect("ok"), Some(b"ping".to_vec()));
        i.feed(&r.encrypt(b"pong").expect("encrypt"));
        assert_eq!(i.next_message().expect("ok"), Some(b"pong".to_vec()));
    }

    #[test]
    fn wrong_lengths_are_typed() {
        let rk = SecretKey::from_slice(&[8; 32]).expect("key");
        for len in [0, 49, 51, 100] {
            let err = ResponderHandshake::new(rk)
                .process_act_one(&vec![0; len])
                .expect_err("wrong length");
            assert_eq!(
                err,
                HandshakeError::WrongLength {
                    act: Act::One,
                    expected: 50,
                    got: len
                }
            );
        }
        // An uncompressed-looking prefix (0x04) is a bad key, not a panic.
        let mut a1 = [0u8; ACT_ONE_LEN];
        a1[1] = 4;
        let err = ResponderHandshake::new(rk).process_act_one(&a1).map(|_| ());
        assert_eq!(err, Err(HandshakeError::BadPublicKey { act: Act::One }));
    }
}
