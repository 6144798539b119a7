//! BOLT 8 transport: the `Noise_XK` handshake and encrypted message framing.
//!
//! The protocol is sans-I/O ([`handshake`], [`session`]): values in, bytes
//! out, no sockets and no clock. [`connection`] is the thin tokio driver that
//! runs a handshake over any `AsyncRead + AsyncWrite` and then sends and
//! receives whole plaintext messages.
//!
//! - Outbound: [`InitiatorHandshake::new`] → send act one →
//!   [`InitiatorHandshake::process_act_two`] → send act three → [`Session`].
//! - Inbound: [`ResponderHandshake::new`] →
//!   [`ResponderHandshake::process_act_one`] → send act two →
//!   [`ResponderAwaitingActThree::process_act_three`] → [`Session`].
//!
//! Keys (static, ephemeral, chaining and cipher keys) never appear in
//! `Debug` output.

mod cipher;
pub mod connection;
pub mod handshake;
pub mod session;

pub use cipher::MAC_LEN;
pub use connection::{
    Connection, ConnectionError, ConnectionReader, ConnectionWriter, accept_inbound,
    connect_outbound,
};

pub use handshake::{
    ACT_ONE_LEN, ACT_THREE_LEN, ACT_TWO_LEN, Act, HandshakeError, InitiatorHandshake, NodeKey,
    ResponderAwaitingActThree, ResponderHandshake,
};
pub use session::{
    Decryptor, Encryptor, FRAME_OVERHEAD, LENGTH_HEADER_LEN, MAX_MESSAGE_LEN, Session, SessionError,
};
