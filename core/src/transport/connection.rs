//! The tokio driver: run a handshake over any `AsyncRead + AsyncWrite`
//! (TCP, Tor, an in-memory duplex) within a time limit, then send and
//! receive whole plaintext Lightning messages.
//!
//! All protocol decisions are made by the sans-I/O [`handshake`](super::handshake)
//! and [`session`](super::session) types; this file only moves bytes.

use std::time::Duration;

use bitcoin::secp256k1::PublicKey;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};

use super::handshake::{
    ACT_ONE_LEN, ACT_THREE_LEN, ACT_TWO_LEN, HandshakeError, InitiatorHandshake, NodeKey,
    ResponderHandshake,
};
use super::session::{Decryptor, Encryptor, Session, SessionError};

/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 64 * 1024;

/// Why a connection failed. Every error is final: drop the connection.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The underlying stream failed (including EOF during the handshake).
    #[error("transport I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The handshake did not complete within the given time.
    #[error("handshake did not complete within {0:?}")]
    HandshakeTimeout(Duration),
    /// The peer's handshake was invalid.
    #[error("handshake failed: {0}")]
    Handshake(#[from] HandshakeError),
    /// Encryption or decryption failed (bad MAC, oversized message).
    #[error("transport: {0}")]
    Session(#[from] SessionError),
    /// The peer closed the stream in the middle of a message.
    #[error("peer closed the connection in the middle of a message")]
    TruncatedMessage,
}

/// Connect to `remote` (its node id): run the initiator's side of the
/// handshake on `stream`, failing with
/// [`ConnectionError::HandshakeTimeout`] if it takes longer than `timeout`.
pub async fn connect_outbound<S, K>(
    mut stream: S,
    local: K,
    remote: PublicKey,
    timeout: Duration,
) -> Result<Connection<S>, ConnectionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
    K: NodeKey,
{
    let handshake = async {
        let (hs, act_one) = InitiatorHandshake::new(local, remote);
        stream.write_all(&act_one).await?;
        stream.flush().await?;
        let mut act_two = [0u8; ACT_TWO_LEN];
        stream.read_exact(&mut act_two).await?;
        let (act_three, session) = hs.process_act_two(&act_two)?;
        stream.write_all(&act_three).await?;
        stream.flush().await?;
        Ok::<_, ConnectionError>(session)
    };
    let session = tokio::time::timeout(timeout, handshake)
        .await
        .map_err(|_| ConnectionError::HandshakeTimeout(timeout))??;
    tracing::debug!(remote = %session.remote_node_id(), "outbound BOLT 8 handshake complete");
    Ok(Connection::new(stream, session))
}

/// Accept an inbound connection: run the responder's side of the handshake
/// on `stream` within `timeout`. The peer's node id is then
/// [`Connection::remote_node_id`].
pub async fn accept_inbound<S, K>(
    mut stream: S,
    local: K,
    timeout: Duration,
) -> Result<Connection<S>, ConnectionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
    K: NodeKey,
{
    let handshake = async {
        let hs = ResponderHandshake::new(local);
        let mut act_one = [0u8; ACT_ONE_LEN];
        stream.read_exact(&mut act_one).await?;
        let (hs, act_two) = hs.process_act_one(&act_one)?;
        stream.write_all(&act_two).await?;
        stream.flush().await?;
        let mut act_three = [0u8; ACT_THREE_LEN];
        stream.read_exact(&mut act_three).await?;
        Ok::<_, ConnectionError>(hs.process_act_three(&act_three)?)
    };
    let session = tokio::time::timeout(timeout, handshake)
        .await
        .map_err(|_| ConnectionError::HandshakeTimeout(timeout))??;
    tracing::debug!(remote = %session.remote_node_id(), "inbound BOLT 8 handshake complete");
    Ok(Connection::new(stream, session))
}

/// An established, encrypted connection.
pub struct Connection<S> {
    reader: ConnectionReader<S>,
    writer_state: WriteState,
}

impl<S> std::fmt::Debug for Connection<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("remote_node_id", &self.reader.remote)
            .finish_non_exhaustive()
    }
}

struct WriteState {
    encryptor: Encryptor,
    buf: Vec<u8>,
}

impl WriteState {
    async fn send<W: AsyncWrite + Unpin>(
        &mut self,
        w: &mut W,
        msg: &[u8],
    ) -> Result<(), ConnectionError> {
        self.queue(msg)?;
        self.flush(w).await
    }

    fn queue(&mut self, msg: &[u8]) -> Result<(), ConnectionError> {
        Ok(self.encryptor.encrypt_into(msg, &mut self.buf)?)
    }

    async fn flush<W: AsyncWrite + Unpin>(&mut self, w: &mut W) -> Result<(), ConnectionError> {
        let result = async {
            w.write_all(&self.buf).await?;
            w.flush().await
        }
        .await;
        self.buf.clear();
        Ok(result?)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    fn new(stream: S, session: Session) -> Self {
        let remote = session.remote_node_id();
        let (encryptor, decryptor) = session.split();
        Connection {
            reader: ConnectionReader {
                stream,
                decryptor,
                remote,
                buf: vec![0u8; READ_CHUNK].into_boxed_slice(),
            },
            writer_state: WriteState {
                encryptor,
                buf: Vec::new(),
            },
        }
    }

    /// The peer's authenticated node id.
    pub fn remote_node_id(&self) -> PublicKey {
        self.reader.remote
    }

    /// Encrypt and write one message, then flush. Not cancel-safe: if the
    /// future is dropped mid-write the stream is corrupt; drop the connection.
    pub async fn send(&mut self, msg: &[u8]) -> Result<(), ConnectionError> {
        self.writer_state.send(&mut self.reader.stream, msg).await
    }

    /// Encrypt a message into the write buffer without writing it (see
    /// [`flush`](Self::flush)); for sending a batch in one write.
    pub fn queue(&mut self, msg: &[u8]) -> Result<(), ConnectionError> {
        self.writer_state.queue(msg)
    }

    /// Write and flush everything queued. Not cancel-safe.
    pub async fn flush(&mut self) -> Result<(), ConnectionError> {
        self.writer_state.flush(&mut self.reader.stream).await
    }

    /// The next message; `Ok(None)` when the peer closed cleanly between
    /// messages. Cancel-safe (bytes already read stay buffered).
    pub async fn recv(&mut self) -> Result<Option<Vec<u8>>, ConnectionError> {
        self.reader.recv().await
    }

    /// Split into a reader and a writer for separate tasks.
    pub fn into_split(
        self,
    ) -> (
        ConnectionReader<ReadHalf<S>>,
        ConnectionWriter<WriteHalf<S>>,
    ) {
        let ConnectionReader {
            stream,
            decryptor,
            remote,
            buf,
        } = self.reader;
        let (r, w) = tokio::io::split(stream);
        (
            ConnectionReader {
                stream: r,
                decryptor,
                remote,
                buf,
            },
            ConnectionWriter {
                stream: w,
                state: self.writer_state,
                remote,
            },
        )
    }
}

/// The receiving half of a [`Connection`].
pub struct ConnectionReader<R> {
    stream: R,
    decryptor: Decryptor,
    remote: PublicKey,
    buf: Box<[u8]>,
}

impl<R> std::fmt::Debug for ConnectionReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionReader")
            .field("remote_node_id", &self.remote)
            .finish_non_exhaustive()
    }
}

impl<R: AsyncRead + Unpin> ConnectionReader<R> {
    /// The peer's authenticated node id.
    pub fn remote_node_id(&self) -> PublicKey {
        self.remote
    }

    /// The next message; `Ok(None)` when the peer closed cleanly between
    /// messages. Cancel-safe.
    pub async fn recv(&mut self) -> Result<Option<Vec<u8>>, ConnectionError> {
        loop {
            if let Some(msg) = self.decryptor.next_message()? {
                return Ok(Some(msg));
            }
            let n = self.stream.read(&mut self.buf).await?;
            if n == 0 {
                return if self.decryptor.is_at_message_boundary() {
                    Ok(None)
                } else {
                    Err(ConnectionError::TruncatedMessage)
                };
            }
            self.decryptor.feed(&self.buf[..n]);
        }
    }
}

/// The sending half of a [`Connection`].
pub struct ConnectionWriter<W> {
    stream: W,
    state: WriteState,
    remote: PublicKey,
}

impl<W> std::fmt::Debug for ConnectionWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionWriter")
            .field("remote_node_id", &self.remote)
            .finish_non_exhaustive()
    }
}

impl<W: AsyncWrite + Unpin> ConnectionWriter<W> {
    /// The peer's authenticated node id.
    pub fn remote_node_id(&self) -> PublicKey {
        self.remote
    }

    /// Encrypt, write and flush one message. Not cancel-safe.
    pub async fn send(&mut self, msg: &[u8]) -> Result<(), ConnectionError> {
        self.state.send(&mut self.stream, msg).await
    }

    /// Encrypt a message into the write buffer without writing it.
    pub fn queue(&mut self, msg: &[u8]) -> Result<(), ConnectionError> {
        self.state.queue(msg)
    }

    /// Write and flush everything queued. Not cancel-safe.
    pub async fn flush(&mut self) -> Result<(), ConnectionError> {
        self.state.flush(&mut self.stream).await
    }

    /// Shut down the write side (TCP FIN) after flushing.
    pub async fn shutdown(&mut self) -> Result<(), ConnectionError> {
        self.state.flush(&mut self.stream).await?;
        Ok(self.stream.shutdown().await?)
    }
}
