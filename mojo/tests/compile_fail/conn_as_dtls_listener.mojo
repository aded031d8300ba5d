# Must NOT compile: a connection handle passed where a DTLS listener is
# expected (both are pointers to the C library; with Int handles the
# listener functions would get a connection).
# expect-error: cannot be converted from 'ConnPtr' to 'DtlsListenerPtr'
from mojo_tls._ffi import MojoTlsFFI, MOJO_TLS_ROLE_CLIENT


def main() raises:
    var ffi = MojoTlsFFI.load()
    var cfg = ffi.config_new(MOJO_TLS_ROLE_CLIENT)
    var conn = ffi.conn_new_memory(cfg, None)
    _ = ffi.dtls_listener_peer_count(conn)  # rejected
    _ = ffi.conn_free(conn)
    _ = ffi.config_free(cfg)
