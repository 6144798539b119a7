//! BOLT 1/2/7/9 wire types and codecs (pure, no I/O). Being written.
