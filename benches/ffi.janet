# benches/ffi.janet — cost of one libmojo_tls call from Janet through the
# package's generated binding (janet/mojo_tls/ffi.janet, ffi/defbind):
# mojo_tls_conn_pending on a live memory-mode connection. Prints ffi_ns.
# Run: MOJO_TLS_LIBRARY=<dist>/lib/libmojo_tls.so.1 janet benches/ffi.janet [ITERS]
(import ../janet/mojo_tls/ffi :as f)

(defn main [& args]
  (def iters (if (> (length args) 1) (scan-number (args 1)) 1000000))
  (def cfg (f/mojo-tls-config-new 0))
  (assert cfg "config_new failed")
  (def conn (f/mojo-tls-conn-new-memory cfg "localhost"))
  (assert conn "conn_new_memory failed")
  (for i 0 (div iters 10) (f/mojo-tls-conn-pending conn))
  (def t0 (os/clock :monotonic))
  (for i 0 iters (f/mojo-tls-conn-pending conn))
  (def dt (- (os/clock :monotonic) t0))
  (f/mojo-tls-conn-free conn)
  (f/mojo-tls-config-free cfg)
  (printf "ffi_ns %.2f" (/ (* dt 1e9) iters)))
