# Connection information shared by TLS streams (mojo_tls/tls) and memory
# streams (mojo_tls/bio): negotiated parameters, the peer's certificate,
# verification result, session. Each method takes an object with :conn (the
# native connection) and :closed (and :broken: an error to raise). Not a
# public API.

(import ./ffi :as f)
(import ./native :as n)

(defn closed-fail [what]
  (n/fail f/MOJO_TLS_ERR_CLOSED "the TLS stream is closed" what))

(defn ensure-open [s what]
  (when (s :closed) (closed-fail what))
  (when-let [e (s :broken)] (error e)))

(defn conn-of [s what]
  (ensure-open s what)
  (s :conn))

(defn info-string [s what func]
  (n/cstring (func (conn-of s what))))

(defn available
  "Call (thunk); nil when the library says the value is not available."
  [thunk]
  (try (thunk)
    ([e fb] (if (= (n/error-code e) f/MOJO_TLS_ERR_NOT_AVAILABLE) nil (propagate e fb)))))

(defn peer-cert [s]
  (def what ":peer-cert")
  (def c (conn-of s what))
  (available
    (fn []
      (def der (n/out-bytes what f/mojo-tls-conn-peer-cert-der c))
      (def nb (buffer/new-filled 8))
      (def na (buffer/new-filled 8))
      (n/check (f/mojo-tls-conn-peer-cert-validity c nb na) what)
      # Structured SANs (type + value), not the text getter split on newlines.
      (def sans @[])
      (def kind (buffer/new-filled 4))
      (for i 0 (n/check (f/mojo-tls-conn-peer-cert-san-count c) what)
        (def value (n/out-string what (fn [buf cap] (f/mojo-tls-conn-peer-cert-san c i kind buf cap))))
        (def k (ffi/read :int32 kind))
        (array/push sans (string (cond (= k f/MOJO_TLS_SAN_DNS) "DNS"
                                       (= k f/MOJO_TLS_SAN_IP) "IP"
                                       "OTHER")
                                 ":" value)))
      {:der der
       :pem (n/out-string what f/mojo-tls-conn-peer-cert-pem c)
       :subject (n/out-string what f/mojo-tls-conn-peer-cert-subject c)
       :issuer (n/out-string what f/mojo-tls-conn-peer-cert-issuer c)
       :sans sans
       :not-before (n/to-int (ffi/read :int64 nb))
       :not-after (n/to-int (ffi/read :int64 na))
       :sha256 (n/out-bytes what f/mojo-tls-conn-peer-cert-sha256 c)
       :spki-sha256 (n/out-bytes what f/mojo-tls-conn-peer-cert-spki-sha256 c)})))

(defn suite-bits
  ``The symmetric key size in bits of cipher suite `name` (IANA style, as
  :cipher gives it), read from the name: 128 or 256; nil for a name it
  does not know (or nil).``
  [name]
  (when (bytes? name)
    (def up (string/ascii-upper name))
    (cond
      (string/find "CHACHA20" up) 256
      (peg/find ~(* (+ "AES" "ARIA" "CAMELLIA") (set "_-") "128") up) 128
      (peg/find ~(* (+ "AES" "ARIA" "CAMELLIA") (set "_-") "256") up) 256)))

(defn handshake-begin
  "Record on `s` when its handshake began (its first step), once."
  [s]
  (unless (get s :hs-t0) (put s :hs-t0 (os/clock :monotonic))))

(defn handshake-done
  "Record on `s` that its handshake has just completed (for :handshake-seconds)."
  [s]
  (when-let [t0 (get s :hs-t0)]
    (put s :hs-seconds (- (os/clock :monotonic) t0))))

(def methods
  "The information methods of a stream."
  @{:pending (fn pending [s] (n/to-int (f/mojo-tls-conn-pending (conn-of s ":pending"))))
    :version (fn version [s] (info-string s ":version" f/mojo-tls-conn-version-name))
    :version-number (fn version-number [s]
                      (available |(n/check (f/mojo-tls-conn-version (conn-of s ":version-number"))
                                           ":version-number")))
    :cipher (fn cipher [s] (info-string s ":cipher" f/mojo-tls-conn-cipher))
    :cipher-bits (fn cipher-bits [s]
                   (suite-bits (info-string s ":cipher-bits" f/mojo-tls-conn-cipher)))
    :handshake-seconds (fn handshake-seconds [s]
                         (ensure-open s ":handshake-seconds")
                         (get s :hs-seconds))
    :record-layer (fn record-layer [s]
                    (info-string s ":record-layer" f/mojo-tls-conn-record-layer))
    :alpn (fn alpn [s]
            (def a (n/out-string ":alpn" f/mojo-tls-conn-alpn (conn-of s ":alpn")))
            (if (empty? a) nil a))
    :server-name (fn server-name [s]
                   (def a (n/out-string ":server-name" f/mojo-tls-conn-server-name
                                        (conn-of s ":server-name")))
                   (if (empty? a) nil a))
    :peer-cert peer-cert
    :verify-flags (fn verify-flags [s]
                    (n/check (f/mojo-tls-conn-verify-flags (conn-of s ":verify-flags")) ":verify-flags"))
    :verify-reason (fn verify-reason [s]
                     (n/out-string ":verify-reason" f/mojo-tls-conn-verify-reason
                                   (conn-of s ":verify-reason")))
    :session (fn session [s]
               (available |(n/out-bytes ":session" f/mojo-tls-conn-session-export
                                        (conn-of s ":session"))))
    :resumed? (fn resumed? [s]
                (= 1 (n/check (f/mojo-tls-conn-session-resumed (conn-of s ":resumed?")) ":resumed?")))})
