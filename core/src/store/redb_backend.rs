//! The redb 2.x backend.
//!
//! The database is the file `<dir>/data.redb`; each store tree is a redb table
//! of `&[u8] -> &[u8]` with the tree's name. A commit is one redb write
//! transaction with `Durability::Immediate` (redb's default, set explicitly):
//! atomic over all the tables it touches, and fsynced by redb before
//! `commit()` returns. On open we fsync `<dir>` and its parent so a newly
//! created database file's directory entry is durable too.

use std::path::Path;

use redb::{Database, Durability, ReadableTableMetadata, TableDefinition, TableError};

use super::StoreError;
use super::backend::{
    Backend, Entries, Op, catch_open, create_dir_durable, fsync_parent, fsync_path,
};

/// The database file inside the store directory.
pub(crate) const REDB_FILE: &str = "data.redb";

/// The redb backend.
pub(crate) struct RedbBackend {
    db: Database,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("redb: {e}"))
}

fn table(name: &str) -> TableDefinition<'_, &'static [u8], &'static [u8]> {
    TableDefinition::new(name)
}

impl RedbBackend {
    /// Open or create the database in directory `dir`.
    pub(crate) fn open(dir: &Path) -> Result<RedbBackend, StoreError> {
        create_dir_durable(dir)?;
        let file = dir.join(REDB_FILE);
        let db = catch_open("(redb database)", dir, || {
            Database::create(&file).map_err(err)
        })?;
        fsync_path(dir)?;
        fsync_parent(dir)?;
        Ok(RedbBackend { db })
    }
}

impl Backend for RedbBackend {
    fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().map_err(err)?;
        let t = match txn.open_table(table(tree)) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(err(e)),
        };
        Ok(t.get(key).map_err(err)?.map(|v| v.value().to_vec()))
    }

    fn scan_prefix(&self, tree: &str, prefix: &[u8]) -> Result<Entries, StoreError> {
        let txn = self.db.begin_read().map_err(err)?;
        let t = match txn.open_table(table(tree)) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(err(e)),
        };
        let mut out = Vec::new();
        for item in t.range(prefix..).map_err(err)? {
            let (k, v) = item.map_err(err)?;
            if !k.value().starts_with(prefix) {
                break;
            }
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }

    fn commit(&self, ops: &[Op]) -> Result<(), StoreError> {
        let mut txn = self.db.begin_write().map_err(err)?;
        txn.set_durability(Durability::Immediate);
        // Open each table once; ops on one tree keep their order, and ops on
        // different trees are independent.
        let mut trees: Vec<&'static str> = Vec::new();
        for op in ops {
            if !trees.contains(&op.tree) {
                trees.push(op.tree);
            }
        }
        for name in trees {
            let mut t = txn.open_table(table(name)).map_err(err)?;
            for op in ops.iter().filter(|op| op.tree == name) {
                match &op.value {
                    Some(v) => {
                        t.insert(op.key.as_slice(), v.as_slice()).map_err(err)?;
                    }
                    None => {
                        t.remove(op.key.as_slice()).map_err(err)?;
                    }
                }
            }
        }
        txn.commit().map_err(err)
    }

    fn is_empty(&self) -> Result<bool, StoreError> {
        let txn = self.db.begin_read().map_err(err)?;
        for handle in txn.list_tables().map_err(err)? {
            let t = txn
                .open_table(table(redb::TableHandle::name(&handle)))
                .map_err(err)?;
            if !t.is_empty().map_err(err)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn sync(&self) -> Result<(), StoreError> {
        // Every commit is already durable (`Durability::Immediate`).
        Ok(())
    }

    fn close(self: Box<Self>) -> Result<(), StoreError> {
        // Every commit is already durable; dropping the database closes it.
        Ok(())
    }
}
