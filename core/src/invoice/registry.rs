//! The node's invoices in the store.
//!
//! Trees (each change is one atomic [`Batch`]):
//! - `invoices`: `created_index` (u64) → [`InvoiceRecord`], so a scan lists
//!   invoices in creation order;
//! - `invoice_labels`: SHA-256 of the label → `created_index` (hashed so any
//!   label length fits the store's key limit; the record holds the label);
//! - `invoice_hashes`: payment hash → `created_index`;
//! - `invoice_paid`: `pay_index` → `created_index`, for `waitanyinvoice`;
//! - `invoice_counters`: the last `created`, `updated` and `pay` indexes, so
//!   indexes are never reused after a delete (as in Core Lightning).
//!
//! Status is `paid` once [`InvoiceRegistry::mark_paid`] ran, else `expired`
//! when `now >= expires_at`, else `unpaid`: expiry is computed from the
//! clock, never stored. Writers are serialized by a mutex (read, check,
//! commit); readers go straight to the store. Every change bumps a
//! [`tokio::sync::watch`] counter that waiters subscribe to.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bitcoin::hashes::{Hash, sha256};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::store::{Batch, Record, Store, StoreError, Tree};

/// Invoices by creation index.
pub const INVOICES: Tree<u64, InvoiceRecord> = Tree::new("invoices");
/// SHA-256(label) → creation index.
pub const LABELS: Tree<[u8; 32], u64> = Tree::new("invoice_labels");
/// Payment hash → creation index.
pub const HASHES: Tree<[u8; 32], u64> = Tree::new("invoice_hashes");
/// Pay index → creation index.
pub const PAID: Tree<u64, u64> = Tree::new("invoice_paid");
/// Last issued indexes by name.
pub const COUNTERS: Tree<String, u64> = Tree::new("invoice_counters");

/// How an invoice was paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// 1-based order of payments.
    pub pay_index: u64,
    /// What arrived (may exceed the amount asked).
    pub amount_received_msat: u64,
    /// When, seconds since the epoch.
    pub paid_at: u64,
}

/// One invoice as stored (record version 1: JSON body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRecord {
    /// Unique label.
    pub label: String,
    /// The encoded invoice.
    pub bolt11: String,
    /// SHA-256 of the preimage, hex.
    pub payment_hash: String,
    /// The preimage, hex (a secret: never logged).
    pub preimage: String,
    /// The payment secret, hex.
    pub payment_secret: String,
    /// Amount asked, if any.
    pub amount_msat: Option<u64>,
    /// Description text (absent for hash-only invoices or after `desconly`).
    pub description: Option<String>,
    /// Creation time.
    pub created_at: u64,
    /// When it stops being payable.
    pub expires_at: u64,
    /// 1-based creation order.
    pub created_index: u64,
    /// Order of the last change, if it changed since creation.
    pub updated_index: Option<u64>,
    /// Set once paid.
    pub paid: Option<Payment>,
}

impl Record for InvoiceRecord {
    const VERSION: u8 = 1;
    fn encode_body(&self, out: &mut Vec<u8>) {
        // Serialising plain strings and integers cannot fail.
        if let Ok(v) = serde_json::to_vec(self) {
            out.extend_from_slice(&v);
        }
    }
    fn decode_body(version: u8, body: &[u8]) -> Result<Self, String> {
        if version != 1 {
            return Err(format!("invoice record: unknown version {version}"));
        }
        serde_json::from_slice(body).map_err(|e| format!("invoice record: {e}"))
    }
}

/// An invoice's state, as `listinvoices` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceStatus {
    /// Payable.
    Unpaid,
    /// Paid.
    Paid,
    /// Past `expires_at` without payment.
    Expired,
}

impl InvoiceStatus {
    /// `unpaid`, `paid` or `expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Unpaid => "unpaid",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Expired => "expired",
        }
    }
}

impl std::fmt::Display for InvoiceStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for InvoiceStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "unpaid" => Ok(InvoiceStatus::Unpaid),
            "paid" => Ok(InvoiceStatus::Paid),
            "expired" => Ok(InvoiceStatus::Expired),
            other => Err(format!(
                "unknown status {other:?} (expected paid, unpaid or expired)"
            )),
        }
    }
}

impl InvoiceRecord {
    /// The status at time `now`.
    pub fn status(&self, now: u64) -> InvoiceStatus {
        if self.paid.is_some() {
            InvoiceStatus::Paid
        } else if now >= self.expires_at {
            InvoiceStatus::Expired
        } else {
            InvoiceStatus::Unpaid
        }
    }

    /// The object `listinvoices` (and `waitinvoice`, `delinvoice`) return.
    pub fn to_cln_json(&self, now: u64) -> Value {
        let mut o = Map::new();
        o.insert("label".into(), json!(self.label));
        o.insert("bolt11".into(), json!(self.bolt11));
        o.insert("payment_hash".into(), json!(self.payment_hash));
        if let Some(a) = self.amount_msat {
            o.insert("amount_msat".into(), json!(a));
        }
        o.insert("status".into(), json!(self.status(now).as_str()));
        if let Some(d) = &self.description {
            o.insert("description".into(), json!(d));
        }
        o.insert("expires_at".into(), json!(self.expires_at));
        o.insert("created_index".into(), json!(self.created_index));
        if let Some(u) = self.updated_index {
            o.insert("updated_index".into(), json!(u));
        }
        if let Some(p) = &self.paid {
            o.insert("pay_index".into(), json!(p.pay_index));
            o.insert("amount_received_msat".into(), json!(p.amount_received_msat));
            o.insert("paid_at".into(), json!(p.paid_at));
            o.insert("payment_preimage".into(), json!(self.preimage));
        }
        Value::Object(o)
    }
}

/// Why a registry operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Another invoice has this label.
    #[error("Duplicate label '{0}'")]
    DuplicateLabel(String),
    /// Another invoice has this payment hash (the preimage was reused).
    #[error("preimage already used (payment_hash {0})")]
    DuplicatePaymentHash(String),
    /// No such invoice.
    #[error("Unknown invoice")]
    NotFound,
    /// `delinvoice` with a status that is not the current one.
    #[error("Invoice status is {current} not {expected}")]
    StatusMismatch {
        /// Current status.
        current: InvoiceStatus,
        /// The status the caller gave.
        expected: InvoiceStatus,
    },
    /// `desconly` on an invoice without a description.
    #[error("Invoice description already removed")]
    NoDescription,
    /// Already paid.
    #[error("invoice already paid")]
    AlreadyPaid,
    /// Past its expiry.
    #[error("invoice expired")]
    Expired,
    /// Less than the amount asked.
    #[error("paid {got} msat but the invoice asks for {required} msat")]
    Underpaid {
        /// Amount asked.
        required: u64,
        /// Amount offered.
        got: u64,
    },
    /// The store failed (including a record over the value limit).
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The writer lock was poisoned by a panic.
    #[error("invoice registry lock poisoned")]
    Poisoned,
}

/// Fields of a new invoice; indexes are assigned by [`InvoiceRegistry::add`].
#[derive(Debug, Clone)]
pub struct NewInvoice {
    /// Unique label.
    pub label: String,
    /// The encoded invoice.
    pub bolt11: String,
    /// Payment hash.
    pub payment_hash: [u8; 32],
    /// Preimage.
    pub preimage: [u8; 32],
    /// Payment secret.
    pub payment_secret: [u8; 32],
    /// Amount asked, if any.
    pub amount_msat: Option<u64>,
    /// Description text, if the invoice carries it.
    pub description: Option<String>,
    /// Creation time.
    pub created_at: u64,
    /// Expiry time.
    pub expires_at: u64,
}

/// The invoice registry. Share it behind an `Arc`.
pub struct InvoiceRegistry {
    store: Arc<Store>,
    writer: Mutex<()>,
    changes: tokio::sync::watch::Sender<u64>,
    closed: AtomicBool,
}

impl std::fmt::Debug for InvoiceRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvoiceRegistry").finish_non_exhaustive()
    }
}

fn label_key(label: &str) -> [u8; 32] {
    sha256::Hash::hash(label.as_bytes()).to_byte_array()
}

impl InvoiceRegistry {
    /// A registry over `store`.
    pub fn new(store: Arc<Store>) -> InvoiceRegistry {
        InvoiceRegistry {
            store,
            writer: Mutex::new(()),
            changes: tokio::sync::watch::channel(0).0,
            closed: AtomicBool::new(false),
        }
    }

    /// Tell waiters the node is shutting down: they wake and should return
    /// (so a pending `waitanyinvoice` does not hold up shutdown).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.notify();
    }

    /// Whether [`close`](InvoiceRegistry::close) was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// A receiver that sees a new value after every change (add, pay,
    /// delete). Subscribe *before* reading to not miss a change.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn notify(&self) {
        self.changes.send_modify(|v| *v = v.wrapping_add(1));
    }

    fn counter(&self, name: &str) -> Result<u64, StoreError> {
        Ok(self.store.get(&COUNTERS, &name.to_string())?.unwrap_or(0))
    }

    fn by_index(&self, idx: Option<u64>) -> Result<Option<InvoiceRecord>, StoreError> {
        match idx {
            None => Ok(None),
            Some(i) => self.store.get(&INVOICES, &i),
        }
    }

    /// The invoice with `label`.
    pub fn get_by_label(&self, label: &str) -> Result<Option<InvoiceRecord>, StoreError> {
        let rec = self.by_index(self.store.get(&LABELS, &label_key(label))?)?;
        Ok(rec.filter(|r| r.label == label))
    }

    /// The invoice with `payment_hash`.
    pub fn get_by_hash(&self, hash: &[u8; 32]) -> Result<Option<InvoiceRecord>, StoreError> {
        self.by_index(self.store.get(&HASHES, hash)?)
    }

    /// Every invoice, in creation order.
    pub fn list(&self) -> Result<Vec<InvoiceRecord>, StoreError> {
        Ok(self
            .store
            .scan_prefix(&INVOICES, &[])?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    /// The paid invoice with the smallest `pay_index` above `after`.
    ///
    /// Pay indexes are issued in order and written with the `pay` counter in
    /// one batch, so every entry of `invoice_paid` is at most the counter:
    /// only the indexes in `after + 1..=counter` are looked up (gaps come
    /// from deleted invoices), and nothing at all when `counter <= after`.
    pub fn first_paid_after(&self, after: u64) -> Result<Option<InvoiceRecord>, StoreError> {
        let counter = self.counter("pay")?;
        if counter <= after {
            return Ok(None);
        }
        for pay_index in after + 1..=counter {
            if let Some(r) = self.by_index(self.store.get(&PAID, &pay_index)?)? {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// Store a new invoice: refuses a used label or payment hash.
    pub fn add(&self, new: NewInvoice) -> Result<InvoiceRecord, RegistryError> {
        let _w = self.writer.lock().map_err(|_| RegistryError::Poisoned)?;
        if self.get_by_label(&new.label)?.is_some() {
            return Err(RegistryError::DuplicateLabel(new.label));
        }
        if self.store.get(&HASHES, &new.payment_hash)?.is_some() {
            return Err(RegistryError::DuplicatePaymentHash(hex::encode(
                new.payment_hash,
            )));
        }
        let created_index = self.counter("created")? + 1;
        let rec = InvoiceRecord {
            label: new.label,
            bolt11: new.bolt11,
            payment_hash: hex::encode(new.payment_hash),
            preimage: hex::encode(new.preimage),
            payment_secret: hex::encode(new.payment_secret),
            amount_msat: new.amount_msat,
            description: new.description,
            created_at: new.created_at,
            expires_at: new.expires_at,
            created_index,
            updated_index: None,
            paid: None,
        };
        let mut b = Batch::default();
        b.put(&INVOICES, &created_index, &rec);
        b.put(&LABELS, &label_key(&rec.label), &created_index);
        b.put(&HASHES, &new.payment_hash, &created_index);
        b.put(&COUNTERS, &"created".to_string(), &created_index);
        self.store.commit(b)?;
        self.notify();
        Ok(rec)
    }

    /// Record a payment of `amount_msat` for `payment_hash` at `now`: the
    /// entry point for the HTLC path. Refuses an unknown, paid or expired
    /// invoice and an amount below the one asked. Wakes waiters.
    pub fn mark_paid(
        &self,
        payment_hash: &[u8; 32],
        amount_msat: u64,
        now: u64,
    ) -> Result<InvoiceRecord, RegistryError> {
        let _w = self.writer.lock().map_err(|_| RegistryError::Poisoned)?;
        let mut rec = self
            .get_by_hash(payment_hash)?
            .ok_or(RegistryError::NotFound)?;
        match rec.status(now) {
            InvoiceStatus::Paid => return Err(RegistryError::AlreadyPaid),
            InvoiceStatus::Expired => return Err(RegistryError::Expired),
            InvoiceStatus::Unpaid => {}
        }
        if let Some(required) = rec.amount_msat
            && amount_msat < required
        {
            return Err(RegistryError::Underpaid {
                required,
                got: amount_msat,
            });
        }
        let pay_index = self.counter("pay")? + 1;
        let updated_index = self.counter("updated")? + 1;
        rec.paid = Some(Payment {
            pay_index,
            amount_received_msat: amount_msat,
            paid_at: now,
        });
        rec.updated_index = Some(updated_index);
        let mut b = Batch::default();
        b.put(&INVOICES, &rec.created_index, &rec);
        b.put(&PAID, &pay_index, &rec.created_index);
        b.put(&COUNTERS, &"pay".to_string(), &pay_index);
        b.put(&COUNTERS, &"updated".to_string(), &updated_index);
        self.store.commit(b)?;
        self.notify();
        Ok(rec)
    }

    /// Delete the invoice `label` if its status at `now` is `expected`
    /// (returns it as it was), or with `desconly` only drop its description.
    pub fn delete(
        &self,
        label: &str,
        expected: InvoiceStatus,
        desconly: bool,
        now: u64,
    ) -> Result<InvoiceRecord, RegistryError> {
        let _w = self.writer.lock().map_err(|_| RegistryError::Poisoned)?;
        let mut rec = self.get_by_label(label)?.ok_or(RegistryError::NotFound)?;
        let current = rec.status(now);
        if current != expected {
            return Err(RegistryError::StatusMismatch { current, expected });
        }
        let mut b = Batch::default();
        if desconly {
            if rec.description.is_none() {
                return Err(RegistryError::NoDescription);
            }
            let updated_index = self.counter("updated")? + 1;
            rec.description = None;
            rec.updated_index = Some(updated_index);
            b.put(&INVOICES, &rec.created_index, &rec);
            b.put(&COUNTERS, &"updated".to_string(), &updated_index);
        } else {
            let hash: [u8; 32] = hex::decode(&rec.payment_hash)
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| StoreError::Corrupt {
                    tree: INVOICES.name(),
                    reason: "payment_hash is not 32 bytes of hex".into(),
                })?;
            b.delete(&INVOICES, &rec.created_index);
            b.delete(&LABELS, &label_key(label));
            b.delete(&HASHES, &hash);
            if let Some(p) = &rec.paid {
                b.delete(&PAID, &p.pay_index);
            }
        }
        self.store.commit(b)?;
        self.notify();
        Ok(rec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::BackendKind;

    fn new_invoice(label: &str, hash: u8, amount: Option<u64>, expires_at: u64) -> NewInvoice {
        NewInvoice {
            label: label.into(),
            bolt11: format!("lnbcrt-test-{label}"),
            payment_hash: [hash; 32],
            preimage: [hash.wrapping_add(1); 32],
            payment_secret: [0x55; 32],
            amount_msat: amount,
            description: Some("d".into()),
            created_at: 100,
            expires_at,
        }
    }

    fn open(dir: &std::path::Path) -> InvoiceRegistry {
        InvoiceRegistry::new(Arc::new(
            Store::open(&dir.join("s"), BackendKind::Redb).expect("store"),
        ))
    }

    #[test]
    fn add_pay_delete_and_indexes_survive_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = open(dir.path());
        let a = reg
            .add(new_invoice("a", 1, Some(1000), 1000))
            .expect("add a");
        assert_eq!(a.created_index, 1);
        assert!(matches!(
            reg.add(new_invoice("a", 2, None, 1000)),
            Err(RegistryError::DuplicateLabel(_))
        ));
        assert!(matches!(
            reg.add(new_invoice("b", 1, None, 1000)),
            Err(RegistryError::DuplicatePaymentHash(_))
        ));
        let b = reg.add(new_invoice("b", 2, None, 1000)).expect("add b");
        assert_eq!(b.created_index, 2);
        assert_eq!(reg.get_by_label("b").expect("get").expect("b"), b);
        assert_eq!(a.status(999), InvoiceStatus::Unpaid);
        assert_eq!(a.status(1000), InvoiceStatus::Expired);

        assert!(matches!(
            reg.mark_paid(&[1; 32], 999, 500),
            Err(RegistryError::Underpaid {
                required: 1000,
                got: 999
            })
        ));
        assert!(matches!(
            reg.mark_paid(&[9; 32], 999, 500),
            Err(RegistryError::NotFound)
        ));
        assert!(matches!(
            reg.mark_paid(&[2; 32], 5, 1000),
            Err(RegistryError::Expired)
        ));
        let paid_b = reg.mark_paid(&[2; 32], 5, 500).expect("pay b");
        let paid_a = reg.mark_paid(&[1; 32], 1001, 501).expect("pay a");
        assert_eq!(paid_b.paid.as_ref().expect("paid").pay_index, 1);
        assert_eq!(paid_a.paid.as_ref().expect("paid").pay_index, 2);
        assert_eq!(paid_a.updated_index, Some(2));
        assert!(matches!(
            reg.mark_paid(&[1; 32], 1001, 502),
            Err(RegistryError::AlreadyPaid)
        ));
        assert_eq!(
            reg.first_paid_after(0).expect("scan").expect("one").label,
            "b"
        );
        assert_eq!(
            reg.first_paid_after(1).expect("scan").expect("one").label,
            "a"
        );
        assert!(reg.first_paid_after(2).expect("scan").is_none());
        let json = paid_a.to_cln_json(10_000);
        assert_eq!(json["status"], "paid");
        assert_eq!(json["payment_preimage"], hex::encode([2u8; 32]));

        assert!(matches!(
            reg.delete("a", InvoiceStatus::Unpaid, false, 600),
            Err(RegistryError::StatusMismatch {
                current: InvoiceStatus::Paid,
                ..
            })
        ));
        reg.delete("a", InvoiceStatus::Paid, true, 600)
            .expect("desconly");
        assert!(matches!(
            reg.delete("a", InvoiceStatus::Paid, true, 600),
            Err(RegistryError::NoDescription)
        ));
        reg.delete("a", InvoiceStatus::Paid, false, 600)
            .expect("delete");
        assert!(reg.get_by_label("a").expect("get").is_none());
        assert!(reg.get_by_hash(&[1; 32]).expect("get").is_none());
        drop(reg);

        // Indexes are never reused, also across a reopen.
        let reg = open(dir.path());
        let c = reg.add(new_invoice("a", 1, None, 1000)).expect("re-add a");
        assert_eq!(c.created_index, 3);
        let paid_c = reg.mark_paid(&[1; 32], 1, 500).expect("pay c");
        assert_eq!(paid_c.paid.expect("paid").pay_index, 3);
        assert_eq!(paid_c.updated_index, Some(4));
        assert_eq!(reg.list().expect("list").len(), 2);
    }

    #[tokio::test]
    async fn mark_paid_wakes_subscribers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = Arc::new(open(dir.path()));
        reg.add(new_invoice("w", 7, None, u64::MAX)).expect("add");
        let mut rx = reg.subscribe();
        let r2 = reg.clone();
        let payer = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            r2.mark_paid(&[7; 32], 42, 10).expect("pay");
        });
        tokio::time::timeout(std::time::Duration::from_secs(5), rx.changed())
            .await
            .expect("woken in time")
            .expect("sender alive");
        payer.await.expect("payer");
        let rec = reg.get_by_label("w").expect("get").expect("w");
        assert_eq!(rec.status(11), InvoiceStatus::Paid);
    }
}
