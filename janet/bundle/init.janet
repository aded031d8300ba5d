# Bundle script of the mojo_tls Janet package (Janet >= 1.35: janet --install <dir>).
#
# Installs mojo_tls/{ffi,native,reclaim,info,pace,cert,tls,crypto,bio,dtls,dtls_stream,dtls_listener}.janet into the syspath and, when it
# can find one, the shared library libmojo_tls beside them (where
# mojo_tls/ffi looks first after $MOJO_TLS_LIBRARY). The library is taken
# from $MOJO_TLS_LIBRARY, else $MOJO_TLS_DIST/lib, else ../dist/lib of the
# source tree (what ./build.sh produces). Without one, the installed package
# loads libmojo_tls from the system's library path at run time.

(def- modules ["ffi.janet" "native.janet" "reclaim.janet" "info.janet" "pace.janet" "cert.janet" "tls.janet"
                "crypto.janet" "bio.janet" "dtls_stream.janet" "dtls_listener.janet" "dtls.janet"])

(def- library-name
  (if (= (os/which) :macos) "libmojo_tls.1.dylib" "libmojo_tls.so.1"))

(defn- find-library []
  (def candidates
    (filter identity
            [(os/getenv "MOJO_TLS_LIBRARY")
             (when-let [d (os/getenv "MOJO_TLS_DIST")] (string d "/lib/" library-name))
             (string "../dist/lib/" library-name)]))
  (find |(= :file (os/stat $ :mode)) candidates))

(defn install [manifest &]
  (bundle/add-directory manifest "mojo_tls")
  (each m modules
    (bundle/add-file manifest (string "mojo_tls/" m) (string "mojo_tls/" m)))
  (if-let [lib (find-library)]
    (bundle/add-file manifest lib (string "mojo_tls/" library-name) 8r755)
    (eprint "mojo_tls: no " library-name " found (set MOJO_TLS_LIBRARY or MOJO_TLS_DIST);"
            " the package will load it from the system's library path")))
