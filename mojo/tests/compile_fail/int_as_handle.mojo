# Must NOT compile: a bare address (Int) passed as a handle. A handle is
# made from an address only explicitly (GencertPtr(addr)), so a length or
# an fd cannot slip into a handle argument.
# expect-error: cannot be converted from 'Int' to 'GencertPtr'
from mojo_tls._ffi import MojoTlsFFI


def main() raises:
    var ffi = MojoTlsFFI.load()
    var addr: Int = 0
    _ = ffi.gencert_free(addr)  # rejected
