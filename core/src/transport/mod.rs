//! BOLT 8 transport: Noise_XK handshake and message encryption. Being written.
