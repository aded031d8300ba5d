# jpm project file of the mojo_tls Janet package (the bundle in bundle/ is
# the native Janet >= 1.35 way: janet --install janet). jpm installs the
# Janet modules only: make libmojo_tls.so.1 loadable (system library path)
# or set MOJO_TLS_LIBRARY to its path.
(declare-project
  :name "mojo_tls"
  :description "TLS streams for Janet over libmojo_tls (Mbed TLS), non-blocking under ev"
  :version "0.1.0")

(declare-source
  :prefix "mojo_tls"
  :source ["mojo_tls/ffi.janet" "mojo_tls/native.janet" "mojo_tls/reclaim.janet" "mojo_tls/cert.janet" "mojo_tls/tls.janet"
           "mojo_tls/info.janet" "mojo_tls/pace.janet" "mojo_tls/crypto.janet" "mojo_tls/bio.janet"
           "mojo_tls/dtls.janet" "mojo_tls/dtls_stream.janet" "mojo_tls/dtls_listener.janet"])
