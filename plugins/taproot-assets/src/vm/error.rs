//! VM errors. Each kind's message is tapd's text for the same kind, so a
//! failure can be compared with tapd's by category.

/// Why a state transition is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VmError {
    /// A split asset exists but the new asset has no split commitment root.
    #[error("missing asset split commitment root")]
    NoSplitCommitment,
    /// The new asset (or split) does not continue its input's genesis.
    #[error("asset id mismatch")]
    IdMismatch,
    /// The new asset (or split) has another type than its input.
    #[error("asset type mismatch")]
    TypeMismatch,
    /// The PrevID's script key differs from the input asset's script key.
    #[error("asset script key mismatch within state transition")]
    ScriptKeyMismatch,
    /// Input amounts differ from the output amount (inflation or burn).
    #[error("asset amount mismatch: inputs {inputs}, output {output}")]
    AmountMismatch {
        /// Sum of the input tree.
        inputs: u64,
        /// Value of the virtual output.
        output: u64,
    },
    /// A genesis asset came with inputs or splits, or a grouped genesis
    /// lacks its group witness.
    #[error("invalid genesis state transition")]
    InvalidGenesisStateTransition,
    /// A witness is missing, malformed or fails script validation.
    #[error("invalid transfer asset witness: {0}")]
    InvalidTransferWitness(String),
    /// A split asset's type differs from the root asset's.
    #[error("invalid split asset type")]
    InvalidSplitAssetType,
    /// A split asset lacks the "zero PrevID + split commitment" witness.
    #[error("invalid split commitment asset witness")]
    InvalidSplitCommitmentWitness,
    /// A split asset's proof does not lead to the root's split root.
    #[error("invalid split commitment proof")]
    InvalidSplitCommitmentProof,
    /// A zero-value root or split asset has a spendable script key.
    #[error("invalid zero-value root asset")]
    InvalidRootAsset,
    /// A lock time of the new asset is not yet reached.
    #[error("un-finalized asset: {0}")]
    UnfinalizedAsset(String),
    /// An input named by a witness is missing (or a witness has no PrevID).
    #[error("missing asset input(s)")]
    NoInputs,
    /// The supplied inputs are not exactly the ones the witnesses spend.
    #[error("asset input(s) mismatch")]
    InputMismatch,
    /// An input uses a script version other than 0.
    #[error("invalid script version")]
    InvalidScriptVersion,
    /// An input or output asset has a version this crate cannot commit to.
    #[error("unknown asset version {0}")]
    UnknownAssetVersion(u8),
    /// The input tree's sum overflows `u64`.
    #[error("mssmt: integer overflow in input tree")]
    SumOverflow,
    /// The chain lookup failed (not a verdict on the transition).
    #[error("chain lookup failed: {0}")]
    ChainLookup(String),
}

impl VmError {
    /// tapd's category text: the part of the message before any detail.
    pub fn category(&self) -> &'static str {
        match self {
            Self::NoSplitCommitment => "missing asset split commitment root",
            Self::IdMismatch => "asset id mismatch",
            Self::TypeMismatch => "asset type mismatch",
            Self::ScriptKeyMismatch => "asset script key mismatch within state transition",
            Self::AmountMismatch { .. } => "asset amount mismatch",
            Self::InvalidGenesisStateTransition => "invalid genesis state transition",
            Self::InvalidTransferWitness(_) => "invalid transfer asset witness",
            Self::InvalidSplitAssetType => "invalid split asset type",
            Self::InvalidSplitCommitmentWitness => "invalid split commitment asset witness",
            Self::InvalidSplitCommitmentProof => "invalid split commitment proof",
            Self::InvalidRootAsset => "invalid zero-value root asset",
            Self::UnfinalizedAsset(_) => "un-finalized asset",
            Self::NoInputs => "missing asset input(s)",
            Self::InputMismatch => "asset input(s) mismatch",
            Self::InvalidScriptVersion => "invalid script version",
            Self::UnknownAssetVersion(_) => "unknown asset version",
            Self::SumOverflow => "integer overflow",
            Self::ChainLookup(_) => "chain lookup failed",
        }
    }
}
