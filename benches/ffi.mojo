# benches/ffi.mojo — cost of one libmojo_tls call from Mojo, through the
# package's generated binding (mojo/mojo_tls/_ffi.mojo, MojoTlsFFI):
# mojo_tls_conn_pending on a live memory-mode connection. Prints ffi_ns.
# Run: MOJO_TLS_LIBRARY=<dist>/lib/libmojo_tls.so.1 mojo run -I mojo benches/ffi.mojo [ITERS]
from std.sys import argv
from std.time import perf_counter_ns
from mojo_tls._ffi import MojoTlsFFI


def main() raises:
    var iters = 1000000
    var args = argv()
    if len(args) > 1:
        iters = Int(args[1])
    var ffi = MojoTlsFFI.load()
    var cfg = ffi.config_new(0)
    if not cfg:
        raise Error("config_new failed")
    var conn = ffi.conn_new_memory(cfg, String("localhost"))
    if not conn:
        raise Error("conn_new_memory failed")
    var sink = 0
    for _ in range(iters // 10):
        sink += ffi.conn_pending(conn)
    var t0 = perf_counter_ns()
    for _ in range(iters):
        sink += ffi.conn_pending(conn)
    var dt = perf_counter_ns() - t0
    _ = ffi.conn_free(conn)
    _ = ffi.config_free(cfg)
    print("ffi_ns", Float64(dt) / Float64(iters))
    if sink != 0:
        print("unexpected pending bytes", sink)
