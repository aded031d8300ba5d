# Must NOT compile: a connection handle passed where a configuration is
# expected (conn_use_config takes the connection first, then a config).
# expect-error: cannot be converted from 'ConnPtr' to 'ConfigPtr'
from mojo_tls._ffi import MojoTlsFFI, MOJO_TLS_ROLE_SERVER


def main() raises:
    var ffi = MojoTlsFFI.load()
    var cfg = ffi.config_new(MOJO_TLS_ROLE_SERVER)
    var conn = ffi.conn_new_memory(cfg, None)
    _ = ffi.conn_use_config(conn, conn)  # rejected
    _ = ffi.conn_free(conn)
    _ = ffi.config_free(cfg)
