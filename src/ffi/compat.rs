//! Compat layer C entry points (see docs/compat.md).
