//! Integration tests: tapd test vectors, property tests and throughput
//! measurements, in one test binary.

// Test-only binary: unwrap() on fixture data is the point (fail loudly).
#![allow(clippy::unwrap_used)]

mod address_vectors;
mod asset_props;
mod asset_vectors;
mod commitment_vectors;
mod common;
mod mssmt_props;
mod mssmt_vectors;
mod proof_props;
mod proof_vectors;
mod rfqmsg_vectors;
mod tapchannelmsg_vectors;
mod tapinspect_cli;
mod tappsbt_vectors;
mod tapvm_props;
mod vm_vectors;
