//! Compat layer (see docs/compat.md): Mbed TLS calls behind the original shim API.
