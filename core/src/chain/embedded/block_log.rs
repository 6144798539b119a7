//! The embedded chain's blocks on disk: an append-only file of
//! `[len: u32 LE][checksum: first 4 bytes of sha256d(block)][block]` records,
//! fsynced on every append and truncate.
//!
//! Blocks live here rather than in the store because a block can be megabytes
//! and the store keeps values small (see `store::MAX_VALUE_LEN`). A torn last
//! record (a crash during an append) is detected by its length or checksum
//! and cut off when the log is opened.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use bitcoin::Block;
use bitcoin::consensus::encode::{deserialize, serialize};
use bitcoin::hashes::{Hash, sha256d};

/// An open block log.
pub struct BlockLog {
    file: File,
    path: PathBuf,
    /// Start offset of each record, by height - 1 (genesis is not stored).
    offsets: Vec<u64>,
    end: u64,
}

fn checksum(bytes: &[u8]) -> [u8; 4] {
    let h = sha256d::Hash::hash(bytes).to_byte_array();
    [h[0], h[1], h[2], h[3]]
}

impl BlockLog {
    /// Open (creating) the log and read every intact block, in order.
    pub fn open(path: &Path) -> std::io::Result<(BlockLog, Vec<Block>)> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        let mut blocks = Vec::new();
        let mut offsets = Vec::new();
        let mut pos = 0usize;
        while let Some(header) = data.get(pos..pos + 8) {
            let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
            let Some(body) = data.get(pos + 8..pos + 8 + len) else {
                break;
            };
            if checksum(body) != header[4..8] {
                break;
            }
            let Ok(block) = deserialize::<Block>(body) else {
                break;
            };
            offsets.push(pos as u64);
            blocks.push(block);
            pos += 8 + len;
        }
        if pos < data.len() {
            tracing::warn!(path = %path.display(), kept = pos, dropped = data.len() - pos, "cutting a torn tail off the block log");
            file.set_len(pos as u64)?;
            file.sync_all()?;
        }
        Ok((
            BlockLog {
                file,
                path: path.to_path_buf(),
                offsets,
                end: pos as u64,
            },
            blocks,
        ))
    }

    /// Append a block durably.
    pub fn append(&mut self, block: &Block) -> std::io::Result<()> {
        let body = serialize(block);
        let len = u32::try_from(body.len()).map_err(std::io::Error::other)?;
        let mut record = Vec::with_capacity(body.len() + 8);
        record.extend_from_slice(&len.to_le_bytes());
        record.extend_from_slice(&checksum(&body));
        record.extend_from_slice(&body);
        self.file.seek(SeekFrom::End(0))?;
        self.file.write_all(&record)?;
        self.file.sync_data()?;
        self.offsets.push(self.end);
        self.end += record.len() as u64;
        Ok(())
    }

    /// Keep only blocks up to `height` (durably).
    pub fn truncate_to(&mut self, height: u32) -> std::io::Result<()> {
        let keep = height as usize;
        if keep >= self.offsets.len() {
            return Ok(());
        }
        let end = self.offsets[keep];
        self.file.set_len(end)?;
        self.file.sync_all()?;
        self.offsets.truncate(keep);
        self.end = end;
        Ok(())
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
