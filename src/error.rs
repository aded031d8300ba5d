//! Error codes, the library's error type and the thread-local "last error".

use std::cell::RefCell;
use std::fmt;

/// Stable error codes of the C ABI. Every failing call returns one of these
/// (negative) values, or NULL for constructors; `mojo_tls_last_error()` then
/// explains it.
#[repr(C)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mojo_tls_err {
    /// Success.
    MOJO_TLS_OK = 0,
    /// Non-blocking (timeout 0) or memory mode: more input is needed; poll the fd for reading
    /// (or feed ciphertext) and call again.
    MOJO_TLS_ERR_WANT_READ = -1,
    /// Non-blocking mode: the socket is not writable; poll the fd for writing and call again
    /// with the same arguments.
    MOJO_TLS_ERR_WANT_WRITE = -2,
    /// A positive timeout elapsed.
    MOJO_TLS_ERR_TIMEOUT = -3,
    /// The connection is closed (closed locally, or close_notify sent); a reset by the peer is
    /// MOJO_TLS_ERR_RESET.
    MOJO_TLS_ERR_CLOSED = -4,
    /// The transport reached EOF without the peer's close_notify (possible truncation attack).
    MOJO_TLS_ERR_TRUNCATED = -5,
    /// A NULL pointer, a bad length, an out-of-range value or a non-UTF-8 string.
    MOJO_TLS_ERR_INVALID_ARGUMENT = -6,
    /// A NULL, freed, forged or wrong-type handle.
    MOJO_TLS_ERR_INVALID_HANDLE = -7,
    /// The peer's certificate did not verify; the reason is in the last error.
    MOJO_TLS_ERR_VERIFY_FAILED = -8,
    /// The handshake failed for another reason (alert, no common cipher suite, ...).
    MOJO_TLS_ERR_HANDSHAKE = -9,
    /// A socket or file I/O error.
    MOJO_TLS_ERR_IO = -10,
    /// Not supported (e.g. SSL 3.0, TLS 1.0 or TLS 1.1 as a protocol version).
    MOJO_TLS_ERR_UNSUPPORTED = -11,
    /// Garbage or truncated PEM/DER, or an unusable certificate or key.
    MOJO_TLS_ERR_PARSE = -12,
    /// An encrypted private key with a missing or wrong password.
    MOJO_TLS_ERR_BAD_PASSWORD = -13,
    /// A file or directory that does not exist, or no system CA store.
    MOJO_TLS_ERR_NOT_FOUND = -14,
    /// Name resolution or TCP connect failed.
    MOJO_TLS_ERR_CONNECT = -15,
    /// The peer broke the protocol after the handshake (bad record, bad MAC, unexpected message).
    MOJO_TLS_ERR_PROTOCOL = -16,
    /// The call is not valid in the connection's current state or mode.
    MOJO_TLS_ERR_BAD_STATE = -17,
    /// Out of memory.
    MOJO_TLS_ERR_NO_MEMORY = -18,
    /// Nothing to report yet (no peer certificate, handshake not done, ...).
    MOJO_TLS_ERR_NOT_AVAILABLE = -19,
    /// A bug inside the library (a caught panic). The process keeps running.
    MOJO_TLS_ERR_INTERNAL = -20,
    /// A blocking call (timeout != 0) was interrupted by a signal (EINTR) before it
    /// completed. No state is lost: run the signal's work and call again (a write with the
    /// same data, as after WANT_WRITE).
    MOJO_TLS_ERR_INTERRUPTED = -21,
    /// The peer reset the connection (TCP RST: ECONNRESET, or EPIPE on a write): nothing more
    /// can be sent or received. Data read before it was real; what was written may be lost.
    MOJO_TLS_ERR_RESET = -22,
}

pub use mojo_tls_err as Code;

impl Code {
    pub const ALL: [Code; 23] = [
        Code::MOJO_TLS_OK,
        Code::MOJO_TLS_ERR_WANT_READ,
        Code::MOJO_TLS_ERR_WANT_WRITE,
        Code::MOJO_TLS_ERR_TIMEOUT,
        Code::MOJO_TLS_ERR_CLOSED,
        Code::MOJO_TLS_ERR_TRUNCATED,
        Code::MOJO_TLS_ERR_INVALID_ARGUMENT,
        Code::MOJO_TLS_ERR_INVALID_HANDLE,
        Code::MOJO_TLS_ERR_VERIFY_FAILED,
        Code::MOJO_TLS_ERR_HANDSHAKE,
        Code::MOJO_TLS_ERR_IO,
        Code::MOJO_TLS_ERR_UNSUPPORTED,
        Code::MOJO_TLS_ERR_PARSE,
        Code::MOJO_TLS_ERR_BAD_PASSWORD,
        Code::MOJO_TLS_ERR_NOT_FOUND,
        Code::MOJO_TLS_ERR_CONNECT,
        Code::MOJO_TLS_ERR_PROTOCOL,
        Code::MOJO_TLS_ERR_BAD_STATE,
        Code::MOJO_TLS_ERR_NO_MEMORY,
        Code::MOJO_TLS_ERR_NOT_AVAILABLE,
        Code::MOJO_TLS_ERR_INTERNAL,
        Code::MOJO_TLS_ERR_INTERRUPTED,
        Code::MOJO_TLS_ERR_RESET,
    ];

    pub fn from_i32(v: i32) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| *c as i32 == v)
    }

    /// Static, NUL-terminated description (for `mojo_tls_strerror`).
    pub fn text(self) -> &'static str {
        match self {
            Code::MOJO_TLS_OK => "success\0",
            Code::MOJO_TLS_ERR_WANT_READ => {
                "operation would block: waiting for data from the peer\0"
            }
            Code::MOJO_TLS_ERR_WANT_WRITE => "operation would block: waiting to send data\0",
            Code::MOJO_TLS_ERR_TIMEOUT => "operation timed out\0",
            Code::MOJO_TLS_ERR_CLOSED => "connection closed\0",
            Code::MOJO_TLS_ERR_TRUNCATED => "connection closed without close_notify (truncated)\0",
            Code::MOJO_TLS_ERR_INVALID_ARGUMENT => "invalid argument\0",
            Code::MOJO_TLS_ERR_INVALID_HANDLE => {
                "invalid handle (NULL, freed, forged or wrong type)\0"
            }
            Code::MOJO_TLS_ERR_VERIFY_FAILED => "certificate verification failed\0",
            Code::MOJO_TLS_ERR_HANDSHAKE => "TLS handshake failed\0",
            Code::MOJO_TLS_ERR_IO => "I/O error\0",
            Code::MOJO_TLS_ERR_UNSUPPORTED => "not supported by this backend\0",
            Code::MOJO_TLS_ERR_PARSE => "could not parse certificate, key or other input\0",
            Code::MOJO_TLS_ERR_BAD_PASSWORD => "missing or wrong password for the private key\0",
            Code::MOJO_TLS_ERR_NOT_FOUND => "not found\0",
            Code::MOJO_TLS_ERR_CONNECT => "could not connect\0",
            Code::MOJO_TLS_ERR_PROTOCOL => "TLS protocol violation by the peer\0",
            Code::MOJO_TLS_ERR_BAD_STATE => "operation not valid in the current state\0",
            Code::MOJO_TLS_ERR_NO_MEMORY => "out of memory\0",
            Code::MOJO_TLS_ERR_NOT_AVAILABLE => "not available\0",
            Code::MOJO_TLS_ERR_INTERNAL => "internal error in mojo-tls\0",
            Code::MOJO_TLS_ERR_INTERRUPTED => "interrupted by a signal: call again\0",
            Code::MOJO_TLS_ERR_RESET => "connection reset by peer\0",
        }
    }
}

/// An error with its stable code and a human-readable message. The message
/// carries the Mbed TLS code and text and, for verification failures, the reason.
#[derive(Debug, Clone)]
pub struct Error {
    pub code: Code,
    pub message: String,
    /// The Mbed TLS return code behind this error, if any.
    pub backend_code: Option<i32>,
    /// The verification result, for `VERIFY_FAILED` (boxed: errors stay small).
    pub verify: Option<Box<VerifyFailure>>,
}

/// What a certificate verification failure reports besides its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyFailure {
    /// X.509 verification flags (Mbed TLS `MBEDTLS_X509_BADCERT_*` bits).
    pub flags: u32,
    /// Why verification failed (the text the message quotes).
    pub reason: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            backend_code: None,
            verify: None,
        }
    }
    pub fn invalid_arg(message: impl Into<String>) -> Error {
        Error::new(Code::MOJO_TLS_ERR_INVALID_ARGUMENT, message)
    }
    pub fn invalid_handle(what: &str) -> Error {
        Error::new(
            Code::MOJO_TLS_ERR_INVALID_HANDLE,
            format!("invalid {what} handle (NULL, freed, forged or of another type)"),
        )
    }
    pub fn bad_state(message: impl Into<String>) -> Error {
        Error::new(Code::MOJO_TLS_ERR_BAD_STATE, message)
    }
    pub fn not_available(message: impl Into<String>) -> Error {
        Error::new(Code::MOJO_TLS_ERR_NOT_AVAILABLE, message)
    }
    pub fn io(context: &str, err: &std::io::Error) -> Error {
        Error::new(Code::MOJO_TLS_ERR_IO, format!("{context}: {err}"))
    }
    pub fn with_backend(mut self, code: i32) -> Error {
        self.backend_code = Some(code);
        self
    }
    /// Prefix the message with context, keeping code and details.
    pub fn context(mut self, ctx: &str) -> Error {
        self.message = format!("{ctx}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

thread_local! {
    static LAST_ERROR: RefCell<Option<Error>> = const { RefCell::new(None) };
}

pub fn set_last_error(err: Error) {
    LAST_ERROR.with(|e| *e.borrow_mut() = Some(err));
}

pub fn clear_last_error() {
    LAST_ERROR.with(|e| *e.borrow_mut() = None);
}

pub fn last_error_code() -> i32 {
    LAST_ERROR.with(|e| e.borrow().as_ref().map_or(0, |e| e.code as i32))
}

/// The verification flags and reason of the thread's last error, when it
/// is a certificate verification failure.
pub fn last_error_verify() -> Option<(Option<u32>, String)> {
    LAST_ERROR.with(|e| {
        e.borrow()
            .as_ref()
            .filter(|e| e.code == Code::MOJO_TLS_ERR_VERIFY_FAILED)
            .map(|e| match &e.verify {
                Some(v) => (Some(v.flags), v.reason.clone()),
                None => (None, e.message.clone()),
            })
    })
}

/// The full last-error text: "<strerror>: <message>" plus details.
pub fn last_error_text() -> String {
    LAST_ERROR.with(|e| match e.borrow().as_ref() {
        None => String::new(),
        Some(err) => {
            let base = err.code.text().trim_end_matches('\0');
            if err.message.is_empty() {
                base.to_string()
            } else if err.message.starts_with(base) {
                // Said once: "connection reset by peer (os error 104)".
                err.message.clone()
            } else {
                format!("{base}: {}", err.message)
            }
        }
    })
}
