# Must NOT compile: a configuration handle passed where a connection is
# expected (with Int handles this compiled and the C library got a config
# pointer as a connection). mojo/run_tests.sh checks the compiler rejects
# the marked line with the expected message.
# expect-error: cannot be converted from 'ConfigPtr' to 'ConnPtr'
from mojo_tls._ffi import MojoTlsFFI, MOJO_TLS_ROLE_CLIENT


def main() raises:
    var ffi = MojoTlsFFI.load()
    var cfg = ffi.config_new(MOJO_TLS_ROLE_CLIENT)
    _ = ffi.conn_pending(cfg)  # rejected
    _ = ffi.config_free(cfg)
