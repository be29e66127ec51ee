//! The one error type of the server: Kinesis exception names with their HTTP status.
//!
//! Every lower layer (storage, decoding, validation) converts into `ApiError` at its boundary;
//! the protocol layer is the only place that renders it onto the wire.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApiError {
    #[error("ResourceNotFoundException: {0}")]
    ResourceNotFound(String),
    #[error("ResourceInUseException: {0}")]
    ResourceInUse(String),
    #[error("InvalidArgumentException: {0}")]
    InvalidArgument(String),
    #[error("LimitExceededException: {0}")]
    LimitExceeded(String),
    #[error("ExpiredIteratorException: {0}")]
    ExpiredIterator(String),
    #[error("ExpiredNextTokenException: {0}")]
    ExpiredNextToken(String),
    #[error("ProvisionedThroughputExceededException: {0}")]
    ProvisionedThroughputExceeded(String),
    #[error("ValidationException: {0}")]
    Validation(String),
    #[error("SerializationException: {0:?}")]
    Serialization(Option<String>),
    #[error("UnknownOperationException: {0:?}")]
    UnknownOperation(Option<String>),
    #[error("MissingAuthenticationTokenException")]
    MissingAuthenticationToken,
    #[error("IncompleteSignatureException: {0}")]
    IncompleteSignature(String),
    #[error("AccessDeniedException: {0}")]
    AccessDenied(String),
    #[error("InternalFailure: {0}")]
    InternalFailure(String),
    /// An access key the server does not know (`--verify-signatures`).
    #[error("UnrecognizedClientException: {0}")]
    UnrecognizedClient(String),
    /// A signature that does not verify (`--verify-signatures`).
    #[error("InvalidSignatureException: {0}")]
    InvalidSignature(String),
    /// A temporary overload (HTTP 503); every SDK retries it.
    #[error("ServiceUnavailable: {0}")]
    ServiceUnavailable(String),
    /// An error a test asked for (`control/faults.rs`): any of AWS's names, with its status.
    #[error("{name}: {message}")]
    Injected {
        name: &'static str,
        status: u16,
        message: String,
    },
}

impl ApiError {
    /// The exception name AWS puts in `__type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            ApiError::ResourceNotFound(_) => "ResourceNotFoundException",
            ApiError::ResourceInUse(_) => "ResourceInUseException",
            ApiError::InvalidArgument(_) => "InvalidArgumentException",
            ApiError::LimitExceeded(_) => "LimitExceededException",
            ApiError::ExpiredIterator(_) => "ExpiredIteratorException",
            ApiError::ExpiredNextToken(_) => "ExpiredNextTokenException",
            ApiError::ProvisionedThroughputExceeded(_) => "ProvisionedThroughputExceededException",
            ApiError::Validation(_) => "ValidationException",
            ApiError::Serialization(_) => "SerializationException",
            ApiError::UnknownOperation(_) => "UnknownOperationException",
            ApiError::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            ApiError::IncompleteSignature(_) => "IncompleteSignatureException",
            ApiError::AccessDenied(_) => "AccessDeniedException",
            ApiError::InternalFailure(_) => "InternalFailure",
            ApiError::ServiceUnavailable(_) => "ServiceUnavailable",
            ApiError::UnrecognizedClient(_) => "UnrecognizedClientException",
            ApiError::InvalidSignature(_) => "InvalidSignatureException",
            ApiError::Injected { name, .. } => name,
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::InternalFailure(_) => 500,
            ApiError::ServiceUnavailable(_) => 503,
            ApiError::AccessDenied(_) => 403,
            ApiError::Injected { status, .. } => *status,
            _ => 400,
        }
    }

    /// The `message` member; AWS omits it for a few protocol-level errors.
    pub fn message(&self) -> Option<&str> {
        match self {
            ApiError::ResourceNotFound(m)
            | ApiError::ResourceInUse(m)
            | ApiError::InvalidArgument(m)
            | ApiError::LimitExceeded(m)
            | ApiError::ExpiredIterator(m)
            | ApiError::ExpiredNextToken(m)
            | ApiError::ProvisionedThroughputExceeded(m)
            | ApiError::Validation(m)
            | ApiError::IncompleteSignature(m)
            | ApiError::AccessDenied(m)
            | ApiError::InternalFailure(m)
            | ApiError::ServiceUnavailable(m)
            | ApiError::UnrecognizedClient(m)
            | ApiError::InvalidSignature(m)
            | ApiError::Injected { message: m, .. } => Some(m),
            ApiError::Serialization(m) | ApiError::UnknownOperation(m) => m.as_deref(),
            ApiError::MissingAuthenticationToken => Some("Missing Authentication Token"),
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal failure");
        ApiError::InternalFailure("Internal Service Failure".to_string())
    }
}

impl From<shard_store::StoreError> for ApiError {
    fn from(e: shard_store::StoreError) -> Self {
        match e {
            // Logged by the store when the disk fills; retryable once space is freed.
            shard_store::StoreError::DiskFull(_) => ApiError::ServiceUnavailable(
                "The server's disk is full; writes resume once space is freed.".into(),
            ),
            // NATS without a quorum, or unreachable: the SDKs retry a 503.
            shard_store::StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "storage unavailable");
                ApiError::ServiceUnavailable("The storage cluster is unavailable; retry.".into())
            }
            shard_store::StoreError::TooLarge(cause) => ApiError::Validation(format!(
                "1 validation error detected: the records are too large for the storage cluster ({cause})"
            )),
            e => ApiError::internal(e),
        }
    }
}
