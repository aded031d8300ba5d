# mojo_tls/cert — certificate generation (CAs, leaf certificates, CRLs),
# for tests, development servers and internal PKIs.
#
#   (import mojo_tls/cert)
#   (def ca (cert/ca "My test CA"))
#   (def leaf (cert/leaf ca "localhost" {:sans ["localhost" "127.0.0.1"]}))
#   (leaf :cert-pem) (leaf :key-pem)     # PEM strings
#   (:write leaf "server.crt" "server.key")
#   (:close leaf) (:close ca)
#
# A generated certificate is a table with :cert-pem, :key-pem, :cert-der,
# :common-name and :sha256 (of the DER), copied out at creation so they stay
# available after :close; the native object is only needed to sign further
# certificates or CRLs. It can be given directly as the :cert option of
# mojo_tls/tls (the key comes with it) or as :ca.

(import ./ffi :as f)
(import ./native :as n)

(def- key-algs
  {:p256 f/MOJO_TLS_KEY_ECDSA_P256 :ec-p256 f/MOJO_TLS_KEY_ECDSA_P256
   :ecdsa-p256 f/MOJO_TLS_KEY_ECDSA_P256
   :p384 f/MOJO_TLS_KEY_ECDSA_P384 :ec-p384 f/MOJO_TLS_KEY_ECDSA_P384
   :ecdsa-p384 f/MOJO_TLS_KEY_ECDSA_P384})

(def- usages {:server f/MOJO_TLS_USAGE_SERVER :client f/MOJO_TLS_USAGE_CLIENT})

(defn- key-alg [k]
  (cond
    (nil? k) f/MOJO_TLS_KEY_ECDSA_P256
    (int? k) k
    (or (and (bytes? k) (get key-algs (keyword k)))
        (n/invalid "unknown key algorithm %v (use :p256 or :p384)" k))))

(defn- usage-bits [u]
  (cond
    (nil? u) f/MOJO_TLS_USAGE_SERVER
    (int? u) u
    (keyword? u) (or (usages u) (n/invalid "unknown usage %v (use :server and/or :client)" u))
    (indexed? u) (reduce (fn [acc x] (bor acc (usage-bits x))) 0 u)
    (n/invalid "usage must be :server, :client or a list of them, got %v" u)))

(defn- int32-arg [x what]
  (unless (and (int? x) (>= x -2147483648) (<= x 2147483647))
    (n/invalid "%s must be a 32-bit integer, got %v" what x))
  x)

(defn- sans-arg [sans]
  (cond
    (nil? sans) nil
    (indexed? sans) (do
                      (each s sans
                        (unless (or (string? s) (buffer? s))
                          (n/invalid "every SAN must be a string, got %v" s))
                        (when (string/find "," s) (n/invalid "a SAN cannot contain a comma: %v" s)))
                      (n/c-str (string/join (map string sans) ",") "sans"))
    (n/c-str sans "sans")))

(defn- cert-handle [c what]
  (def h (get c :handle))
  (unless h (n/fail f/MOJO_TLS_ERR_CLOSED "the generated certificate is closed" what))
  h)

(defn- write-file [path text mode]
  # Created with `mode` (e.g. 0600 for keys) before anything is written.
  (def fh (try (os/open path :wct mode)
            ([e] (n/fail f/MOJO_TLS_ERR_IO (string "cannot open " path " for writing: " e) "write"))))
  (defer (:close fh)
    (:write fh text)))

(def- Cert
  @{:type :mojo-tls/cert
    :close (fn close [c]
             "Release the native object (idempotent). The PEM/DER fields stay."
             (when-let [h (get c :handle)]
               (put c :handle nil)
               (f/mojo-tls-gencert-free h))
             nil)
    :write (fn write [c cert-path &opt key-path]
             ``Write the certificate (PEM) to `cert-path` and, when given, the
             private key to `key-path` (mode 0600).``
             (write-file cert-path (c :cert-pem) 8r644)
             (when key-path (write-file key-path (c :key-pem) 8r600))
             c)
    :closed? (fn closed? [c] (nil? (get c :handle)))})

(defn- wrap [h common-name]
  (def c (table/setproto @{:handle h :common-name common-name} Cert))
  (def ok (protect
            (put c :cert-pem (n/out-string "cert-pem" f/mojo-tls-gencert-cert-pem h))
            (put c :key-pem (n/out-string "key-pem" f/mojo-tls-gencert-key-pem h))
            (put c :cert-der (n/out-bytes "cert-der" f/mojo-tls-gencert-cert-der h))
            (put c :sha256 (n/sha256 (c :cert-der)))))
  (unless (ok 0)
    (f/mojo-tls-gencert-free h)
    (error (ok 1)))
  c)

(defn cert?
  "True for a certificate made by this module."
  [x]
  (and (table? x) (= (get x :type) :mojo-tls/cert)))

(defn ca
  ``Generate a self-signed CA certificate. Options: :days (validity, default
  365), :key (:p256, the default, or :p384).``
  [&opt common-name opts]
  (default common-name "mojo-tls test CA")
  (default opts {})
  (def cn (n/c-str common-name "common-name"))
  (def days (int32-arg (get opts :days 365) ":days"))
  (def h (n/check-handle (f/mojo-tls-gencert-new-ca cn days (key-alg (get opts :key))) "cert/ca"))
  (wrap h (string common-name)))

(defn leaf
  ``Generate a leaf certificate signed by `issuer` (a CA from cert/ca), or
  self-signed when `issuer` is nil. Options:
    :sans             DNS names / IP addresses (list or comma-separated
                      string); default: the common name
    :days             validity in days (default 365)
    :not-before-days  start of validity relative to now (default 0;
                      negative = in the past, so {:not-before-days -30
                      :days 10} is expired)
    :usage            :server (default), :client or [:server :client]
    :key              :p256 (default) or :p384``
  [issuer &opt common-name opts]
  (default common-name "localhost")
  (default opts {})
  (def ih (when issuer
            (unless (cert? issuer) (n/invalid "issuer must be a certificate from cert/ca, got %v" (type issuer)))
            (cert-handle issuer "cert/leaf")))
  (def cn (n/c-str common-name "common-name"))
  (def sans (sans-arg (get opts :sans [common-name])))
  (def h (n/check-handle
           (f/mojo-tls-gencert-new-leaf ih cn sans
                                    (int32-arg (get opts :not-before-days 0) ":not-before-days")
                                    (int32-arg (get opts :days 365) ":days")
                                    (usage-bits (get opts :usage))
                                    (key-alg (get opts :key)))
           "cert/leaf"))
  (wrap h (string common-name)))

(defn self-signed
  "A self-signed leaf certificate (see cert/leaf for the options)."
  [&opt common-name opts]
  (leaf nil common-name opts))

(defn crl
  ``A CRL signed by the CA `issuer` revoking the generated certificates in
  `revoked` (valid for 30 days), as PEM.``
  [issuer &opt revoked]
  (default revoked [])
  (unless (cert? issuer) (n/invalid "issuer must be a certificate from cert/ca"))
  (def ih (cert-handle issuer "cert/crl"))
  (def arr @"")
  (each r revoked
    (unless (cert? r) (n/invalid "revoked certificates must come from this module"))
    (ffi/write :ptr (cert-handle r "cert/crl") arr))
  (def ptr (if (empty? arr) nil arr))
  # Each call signs a new CRL: use a generous buffer so one call suffices.
  (var cap 8192)
  (var result nil)
  (while (nil? result)
    (def buf (buffer/new-filled cap))
    (def len (n/check (f/mojo-tls-gencert-crl-pem ih ptr (length revoked) buf cap) "cert/crl"))
    (if (< len cap) (set result (string/slice buf 0 len)) (set cap (* 2 (+ len 1)))))
  result)

(def sha256 "SHA-256 of a string or buffer (32 raw bytes)." n/sha256)
(def random-bytes "`n` cryptographically secure random bytes." n/random-bytes)
(def hex "Lower-case hex of a string or buffer." n/hex)
