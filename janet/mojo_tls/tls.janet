# mojo_tls/tls — TLS streams for Janet over libmojo_tls.
#
#   (import mojo_tls/tls)
#   (with [s (tls/connect "example.com" 443 {:alpn ["http/1.1"] :timeout 10})]
#     (:write s "HEAD / HTTP/1.0\r\nHost: example.com\r\n\r\n")
#     (print (:read s :all)))
#
# A TLS stream behaves like a Janet stream: (:read s n &opt buf timeout)
# (n may be :all; nil at EOF), (:chunk s n &opt buf timeout),
# (:write s data &opt timeout), (:close s). Timeouts are in seconds.
#
# Nothing here blocks the event loop: every connection runs the library in
# memory mode and its ciphertext moves over Janet's own `net` streams with
# ev/read and net/write (the stream's :write method), so many connections
# (clients and servers) run concurrently in one thread, each in its own
# fiber. One fiber may read while another writes on the same stream.
#
# Errors are raised as structs {:mojo-tls true :code <MOJO_TLS_ERR_* code>
# :name <keyword, e.g. :verify-failed> :message <the library's message>
# :context <operation>}; see tls/error-code and tls/error-name.
# (:close s) frees everything; using a closed stream raises :closed.

(import ./ffi :as f)
(import ./native :as n)
(import ./reclaim)
(import ./info :as i)
(import ./pace)

(def WANT_READ f/MOJO_TLS_ERR_WANT_READ)
# Sizes of the data path. Each FFI call and each fresh buffer costs far
# more in Janet than the bytes it moves, so move many records per call: the
# fast record layer takes and returns up to 256 KiB at once (Mbed TLS's
# takes one 16 KiB record per write; the loop goes on with the rest).
# A transport read takes up to 128 KiB: a 64 KiB plaintext read needs a
# little more than 64 KiB of records, so with 64 KiB transport reads most
# plaintext reads took two (64 MiB echo: ~525 MiB/s CPU-bound at 64 KiB,
# ~610 at 128 KiB, ~570 at 192 and 256 KiB on this package's bench). The
# stream keeps this one buffer (it no longer keeps a plaintext one).
(def- write-step 262144)
(def- read-step 65536)
(def- transport-chunk 131072)


# ---- errors -------------------------------------------------------------------

(defn error-code
  "The library error code (a negative MOJO_TLS_ERR_* value) of an error raised by this package, else nil."
  [err]
  (n/error-code err))

(defn error-name
  "The keyword naming the error code (:verify-failed, :timeout, :closed, ...) of an error raised by this package, else nil."
  [err]
  (when (n/error-code err) (get err :name)))

(def codes
  "Map from error keyword (:verify-failed, ...) to the library's error code."
  n/codes)

(defn version
  "The library version, backend and ABI: {:version \"0.1.0\" :backend \"Mbed TLS ...\" :abi 1}."
  []
  {:version (n/cstring (f/mojo-tls-version))
   :backend (n/cstring (f/mojo-tls-backend))
   :abi (f/mojo-tls-abi-version)})

# ---- time ---------------------------------------------------------------------

(defn- now [] (os/clock :monotonic))

(defn- check-timeout [t what]
  (unless (or (nil? t) (and (number? t) (>= t 0)))
    (n/invalid "%s: timeout must be nil or a non-negative number of seconds, got %v" what t))
  t)

(defn- deadline-of [timeout] (when timeout (+ (now) timeout)))

(defn- timeout-fail [what]
  (n/fail f/MOJO_TLS_ERR_TIMEOUT (string what " timed out") what))

(defn- remaining
  "Seconds left before `deadline` (nil = no deadline); raises :timeout when none are."
  [deadline what]
  (when deadline
    (def r (- deadline (now)))
    (when (<= r 0) (timeout-fail what))
    r))

(defn- within
  "Run (thunk) and cancel it with a :timeout error if `deadline` passes first."
  [deadline what thunk]
  (if (nil? deadline)
    (thunk)
    (do
      (def rem (remaining deadline what))
      (def fib (fiber/new thunk :yi))
      (ev/deadline rem nil fib)
      (try
        (resume fib)
        ([e fb] (if (= e "deadline expired") (timeout-fail what) (propagate e fb)))))))

# ---- fiber locks (a channel holding one token) --------------------------------

(defn- make-lock [] (def c (ev/chan 1)) (ev/give c true) c)

(defn- acquire [lock deadline what]
  (if (or (pos? (ev/count lock)) (nil? deadline))
    (ev/take lock)
    (within deadline what (fn [] (ev/take lock)))))

(defn- release [lock] (ev/give lock true))

# ---- options ------------------------------------------------------------------

(def- version-names
  {:tls1.2 f/MOJO_TLS_VERSION_TLS1_2 :tls12 f/MOJO_TLS_VERSION_TLS1_2
   :tlsv1.2 f/MOJO_TLS_VERSION_TLS1_2 :1.2 f/MOJO_TLS_VERSION_TLS1_2
   :tls1.3 f/MOJO_TLS_VERSION_TLS1_3 :tls13 f/MOJO_TLS_VERSION_TLS1_3
   :tlsv1.3 f/MOJO_TLS_VERSION_TLS1_3 :1.3 f/MOJO_TLS_VERSION_TLS1_3})

(defn- version-arg [v what]
  (cond
    (= v f/MOJO_TLS_VERSION_TLS1_2) v
    (= v f/MOJO_TLS_VERSION_TLS1_3) v
    (= v 1.2) f/MOJO_TLS_VERSION_TLS1_2
    (= v 1.3) f/MOJO_TLS_VERSION_TLS1_3
    (bytes? v) (or (version-names (keyword (string/ascii-lower v)))
                   (n/invalid "%s: unknown protocol version %v (use :tls1.2 or :tls1.3)" what v))
    (n/invalid "%s: unknown protocol version %v (use :tls1.2 or :tls1.3)" what v)))

(def- verify-modes
  {true f/MOJO_TLS_VERIFY_REQUIRED :required f/MOJO_TLS_VERIFY_REQUIRED
   :optional f/MOJO_TLS_VERIFY_OPTIONAL
   false f/MOJO_TLS_VERIFY_NONE :none f/MOJO_TLS_VERIFY_NONE})

(def- client-auth-modes
  {true f/MOJO_TLS_CLIENT_AUTH_REQUIRED :required f/MOJO_TLS_CLIENT_AUTH_REQUIRED
   :optional f/MOJO_TLS_CLIENT_AUTH_OPTIONAL
   false f/MOJO_TLS_CLIENT_AUTH_NONE :none f/MOJO_TLS_CLIENT_AUTH_NONE})

(def- config-keys
  [:server :verify :client-auth :check-hostname :ca :ca-file :ca-dir :system-ca
   :cert :key :password :certs :alpn :ciphers :groups :min-version :max-version
   :pins :pin-only :crl :crl-file :keylog :session-tickets :ticket-keys :session-cache :fast-record-layer
   :resumption-without-forward-secrecy])

(def- conn-keys
  [:config :timeout :sni :server-name :session :initial-data :close-transport
   :handshake :close-timeout :on-error :handshake-timeout :backlog])

(def- known-keys (tabseq [k :in [;config-keys ;conn-keys]] k true))

(defn- check-opts [opts what]
  (unless (dictionary? opts) (n/invalid "%s: options must be a table or struct, got %v" what (type opts)))
  (eachk k opts
    (unless (known-keys k) (n/invalid "%s: unknown option %v" what k)))
  opts)

(defn- generated-cert? [x] (and (table? x) (= (get x :type) :mojo-tls/cert)))

(defn- pem? [x] (and (bytes? x) (string/find "-----BEGIN" x)))

(defn- list-of [x]
  (if (and (indexed? x) (not (bytes? x))) x [x]))

(defn- names-arg [x what]
  (cond
    (bytes? x) (n/c-str x what)
    (indexed? x) (do
                   (each p x
                     (unless (bytes? p) (n/invalid "%s: every entry must be a string, got %v" what p))
                     (when (or (empty? p) (string/find "," p))
                       (n/invalid "%s: bad entry %v" what p)))
                   (n/c-str (string/join (map string x) ",") what))
    (n/invalid "%s must be a string or a list of strings, got %v" what (type x))))

(defn- pin-arg [p]
  (defn hash-bytes [h]
    (cond
      (and (bytes? h) (= 32 (length h))) (string h)
      (bytes? h) (let [b (n/unhex h)]
                   (if (and b (= 32 (length b))) b
                     (n/invalid ":pins: a pin must be 32 raw bytes or 64 hex digits")))
      (n/invalid ":pins: a pin must be 32 raw bytes or 64 hex digits, got %v" (type h))))
  (cond
    (bytes? p) [f/MOJO_TLS_PIN_CERT (hash-bytes p)]
    (and (indexed? p) (= 2 (length p)))
    (let [[kind h] p]
      (case kind
        :cert [f/MOJO_TLS_PIN_CERT (hash-bytes h)]
        :spki [f/MOJO_TLS_PIN_SPKI (hash-bytes h)]
        (n/invalid ":pins: pin kind must be :cert or :spki, got %v" kind)))
    (and (dictionary? p) (= 1 (length p)))
    (pin-arg [(first (keys p)) (first (values p))])
    (n/invalid ":pins: bad pin %v (use a SHA-256, [:cert h] or [:spki h])" p)))

# ---- configurations -------------------------------------------------------------

(defn- cfg-handle [c what]
  (or (get c :handle)
      (n/fail f/MOJO_TLS_ERR_CLOSED "the TLS configuration is closed" what)))

(def- Config
  @{:type :mojo-tls/config
    :close (fn close [c]
             "Release the native configuration (idempotent). Open streams keep working."
             (when-let [h (get c :handle)]
               (put c :handle nil)
               (reclaim/untrack h)
               (f/mojo-tls-config-free h))
             nil)
    :closed? (fn closed? [c] (nil? (get c :handle)))
    :server? (fn server? [c] (get c :server))})

(defn config?
  "True for a configuration made by tls/config."
  [x]
  (and (table? x) (= (get x :type) :mojo-tls/config)))

(defn- add-cert [h cert key password what]
  (def password (n/c-str password ":password"))
  (cond
    (generated-cert? cert)
    (let [key (or key (cert :key-pem))
          kdata (if (generated-cert? key) (key :key-pem) key)]
      (add-cert h (cert :cert-pem) kdata password what))
    (nil? key) (n/invalid "%s: :cert needs a :key" what)
    (or (pem? cert) (buffer? cert))
    (do
      (def key (if (generated-cert? key) (key :key-pem) key))
      (unless (or (pem? key) (buffer? key))
        (n/invalid "%s: with :cert given as data, :key must be data too (PEM or a DER buffer)" what))
      (n/check (f/mojo-tls-config-add-cert-mem h cert (length cert) key (length key) password) what))
    (n/check (f/mojo-tls-config-add-cert-file h (n/c-str cert ":cert") (n/c-str key ":key") password)
             what)))

(defn- apply-config [h opts server what]
  (def {:min-version minv :max-version maxv} opts)
  (when minv (n/check (f/mojo-tls-config-set-min-version h (version-arg minv ":min-version")) what))
  (when maxv (n/check (f/mojo-tls-config-set-max-version h (version-arg maxv ":max-version")) what))
  # verification
  (if server
    (do
      (def mode (get opts :client-auth (get opts :verify)))
      (unless (nil? mode)
        (def m (get client-auth-modes mode))
        (when (nil? m) (n/invalid "%s: :client-auth must be :required, :optional or :none, got %v" what mode))
        (n/check (f/mojo-tls-config-set-client-auth h m) what)))
    (do
      (def mode (get opts :verify))
      (unless (nil? mode)
        (def m (get verify-modes mode))
        (when (nil? m) (n/invalid "%s: :verify must be true, false, :required, :optional or :none, got %v" what mode))
        (n/check (f/mojo-tls-config-insecure-verify h m) what))
      (when (= false (get opts :check-hostname))
        (n/check (f/mojo-tls-config-insecure-skip-hostname-check h 1) what))))
  (when (get opts :system-ca) (n/check (f/mojo-tls-config-add-ca-system h) what))
  (each path (list-of (get opts :ca-file []))
    (n/check (f/mojo-tls-config-add-ca-file h (n/c-str path ":ca-file")) what))
  (each path (list-of (get opts :ca-dir []))
    (n/check (f/mojo-tls-config-add-ca-dir h (n/c-str path ":ca-dir")) what))
  (def ca (get opts :ca))
  (each c (if (or (nil? ca) (generated-cert? ca) (bytes? ca)) (if ca [ca] []) ca)
    (def data (if (generated-cert? c) (c :cert-pem) (n/bytes-arg c ":ca")))
    (when (empty? data) (n/invalid "%s: :ca is empty" what))
    (n/check (f/mojo-tls-config-add-ca-mem h data (length data)) what))
  # own certificates
  (def {:cert cert :key key :password password} opts)
  (when (or cert key) (add-cert h cert key password what))
  (each entry (get opts :certs [])
    (cond
      (generated-cert? entry) (add-cert h entry nil nil what)
      (dictionary? entry) (add-cert h (entry :cert) (entry :key) (entry :password) what)
      (indexed? entry) (add-cert h (get entry 0) (get entry 1) (get entry 2) what)
      (n/invalid "%s: :certs entries must be certificates, [cert key] or {:cert :key}" what)))
  (when-let [alpn (get opts :alpn)]
    (n/check (f/mojo-tls-config-set-alpn h (names-arg alpn ":alpn")) what))
  (when-let [cs (get opts :ciphers)]
    (n/check (f/mojo-tls-config-set-ciphersuites h (names-arg cs ":ciphers")) what))
  (when-let [gs (get opts :groups)]
    (n/check (f/mojo-tls-config-set-groups h (names-arg gs ":groups")) what))
  (each p (list-of (get opts :pins []))
    (def [kind hash] (pin-arg p))
    (n/check (f/mojo-tls-config-add-pin h kind hash 32) what))
  (when (get opts :pin-only) (n/check (f/mojo-tls-config-set-pin-only h 1) what))
  (each path (list-of (get opts :crl-file []))
    (n/check (f/mojo-tls-config-add-crl-file h (n/c-str path ":crl-file")) what))
  (each c (list-of (get opts :crl []))
    (n/bytes-arg c ":crl")
    (n/check (f/mojo-tls-config-add-crl-mem h c (length c)) what))
  (when-let [path (get opts :keylog)]
    (n/check (f/mojo-tls-config-set-keylog-file h (n/c-str path ":keylog")) what))
  (when-let [t (get opts :session-tickets)]
    (n/check (f/mojo-tls-config-set-session-tickets h (if (number? t) t 0)) what))
  (when-let [k (get opts :ticket-keys)]
    (n/bytes-arg k ":ticket-keys")
    (n/check (f/mojo-tls-config-set-ticket-keys h k (length k)) what))
  (when-let [sc (get opts :session-cache)]
    (def [entries secs] (cond (number? sc) [sc 86400] (indexed? sc) sc [1024 86400]))
    (n/check (f/mojo-tls-config-set-session-cache h entries secs) what))
  (when (= false (get opts :fast-record-layer))
    (n/check (f/mojo-tls-config-set-record-layer h f/MOJO_TLS_RECORD_LAYER_MBEDTLS) what))
  (when (get opts :resumption-without-forward-secrecy)
    (n/check (f/mojo-tls-config-insecure-resumption-without-forward-secrecy h 1) what)))

(defn config
  ``A TLS configuration, shareable by many connections: (tls/config opts).
  Client unless :server is true. Options (all optional):
    :server          true for a server configuration
    :verify          client: true/:required (default), :optional, false/:none
                     (INSECURE); server: same as :client-auth
    :client-auth     server: :none (default), :optional, :required (mutual TLS)
    :check-hostname  false skips the host name check (INSECURE)
    :ca              CA certificates as PEM/DER data, a generated cert, or a list
    :ca-file :ca-dir CA file(s) / directory(ies); :system-ca true adds the
                     system store (used by default when no CA is given)
    :cert :key       own certificate chain and key: PEM data, DER buffers,
                     file paths, or a generated cert (from mojo_tls/cert)
    :password        password of an encrypted key
    :certs           more [cert key] pairs (a server picks one by SNI)
    :alpn            protocols, e.g. ["h2" "http/1.1"]
    :ciphers :groups IANA cipher suite names / groups (list or string)
    :min-version :max-version  :tls1.2 or :tls1.3
    :pins            SHA-256 pins: 32 bytes or 64 hex digits (certificate),
                     [:spki h] for a public-key pin
    :pin-only        true: trust the pins alone (self-signed peers)
    :crl :crl-file   revocation lists (PEM/DER data, or files)
    :keylog          NSS key-log file (debugging; secret!)
    :session-tickets server: true (or a key lifetime in seconds)
    :ticket-keys     server: 1-8 keys of 32 random bytes, concatenated; servers
                     with the same keys resume each other's tickets (the
                     first key seals, all open; implies :session-tickets)
    :session-cache   server: true, a size, or [size seconds]
    :resumption-without-forward-secrecy  true allows TLS 1.3 psk_ke
                     resumption (no ECDHE, no forward secrecy; both ends
                     must allow it: an opted-in client's resumption fails
                     against a server that does not; docs/features/resumption.md)
    :fast-record-layer  false keeps Mbed TLS's record layer after the
                     handshake (default true: mojo-tls's faster one where it
                     runs the suite; see the stream's :record-layer)``
  [&opt opts]
  (default opts {})
  (check-opts opts "config")
  (def server (truthy? (get opts :server)))
  (def h (n/check-handle (f/mojo-tls-config-new (if server f/MOJO_TLS_ROLE_SERVER f/MOJO_TLS_ROLE_CLIENT))
                         "config"))
  (def ok (protect (apply-config h opts server "config")))
  (unless (ok 0)
    (f/mojo-tls-config-free h)
    (error (ok 1)))
  # Whether a server has something to present (checked by listen/upgrade).
  (def has-cert (truthy? (or (get opts :cert) (not (empty? (get opts :certs []))))))
  (def c (table/setproto @{:handle h :server server :has-cert has-cert} Config))
  (reclaim/track c h f/mojo-tls-config-free)
  c)

(defn- config-for
  "The configuration to use for `opts`: [config owned?]."
  [opts server what]
  (if-let [c (get opts :config)]
    (do
      (unless (config? c) (n/invalid "%s: :config must come from tls/config" what))
      (unless (= server (truthy? (c :server)))
        (n/invalid "%s: :config is a %s configuration" what (if (c :server) "server" "client")))
      (cfg-handle c what)
      [c false])
    [(config (merge opts {:server server})) true]))

(defn- require-cert
  "Raise unless the server configuration `cfg` has a certificate (closing it if `owned`)."
  [cfg owned what]
  (unless (cfg :has-cert)
    (when owned (:close cfg))
    (n/invalid "%s: a server needs a certificate: give :cert and :key (or :certs, or a :config that has them)"
               what)))

# ---- transport I/O --------------------------------------------------------------

(def- closed-fail i/closed-fail)
(def- ensure-open i/ensure-open)

(defn- cancellation?
  ``Whether `e`, raised while waiting on the transport, is the waiting
  fiber being cancelled (ev/cancel, ev/with-deadline) rather than an I/O
  error: Janet's I/O errors are strings, and deadlines say "deadline expired".``
  [e]
  (or (not (string? e)) (= e "deadline expired")))

(defn- transport-read [s deadline what &opt lock]
  # A failed or cancelled read consumed nothing: the stream stays as it
  # was (a plain net stream is also usable after a cancelled read), and a
  # real I/O error will show again on the next read. `lock`, when given,
  # is released before any error leaves (the caller holds it, no `defer`).
  (def tr (s :tr))
  (put s :rx-task (fiber/root))
  # One `try` (a fiber) whose handler also clears :rx-task: no `defer`
  # fiber on the data path.
  (def got
    (try
      # Into the stream's own buffer, reused: the caller feeds (copies) it
      # before the next read. Never shared between streams.
      (let [buf (or (s :wire-rx) (let [b (buffer/new transport-chunk)] (put s :wire-rx b) b))]
        (buffer/clear buf)
        (ev/read tr transport-chunk buf (remaining deadline what)))
      ([e fb]
        (put s :rx-task nil)
        (when lock (release lock))
        (when (s :closed) (closed-fail what))
        (cond
          (n/error-code e) (propagate e fb)
          (= e "timeout") (timeout-fail what)
          (cancellation? e) (propagate e fb)
          (n/fail f/MOJO_TLS_ERR_IO (string "transport: " e) what)))))
  (put s :rx-task nil)
  got)

(defn- break-stream
  "Make every later operation on `s` raise `message` (an :io error)."
  [s message what]
  (unless (s :broken)
    (put s :broken (n/tls-error f/MOJO_TLS_ERR_IO
                                (string "the TLS stream is unusable: " message) what))))

(defn- transport-write [s data deadline what &opt lock]
  # The stream's own :write method: net/write (send with MSG_NOSIGNAL) on a
  # socket, so writing to a peer that has gone away raises EPIPE here instead
  # of raising SIGPIPE, which kills the whole process; ev/write on the other
  # streams (pipes).
  # However it fails (timeout, cancellation, I/O error), an unknown part of
  # `data` went out: the record stream is cut, so the stream is broken.
  (try
    (:write (s :tr) data (remaining deadline what))
    ([e fb]
      (when lock (release lock))
      (when (s :closed) (closed-fail what))
      (cond
        (n/error-code e) (do (break-stream s (e :message) what) (propagate e fb))
        (= e "timeout")
        (do (break-stream s (string "an earlier " what " timed out part-way through a record") what)
            (timeout-fail what))
        (cancellation? e)
        (do (break-stream s (string "an earlier " what " was cancelled part-way through a record") what)
            (propagate e fb))
        (do (break-stream s (string "transport: " e) what)
            (n/fail f/MOJO_TLS_ERR_IO (string "transport: " e) what))))))

(defn- flush-raw
  "Send every ciphertext byte the connection has queued (no open check)."
  [s deadline what]
  (def conn (s :conn))
  (when (and conn (pos? (n/to-int (f/mojo-tls-conn-pending-output conn))))
    (def lock (s :tx-lock))
    (acquire lock deadline what)
    # No `defer` (a fiber per flush): only transport-write can raise here,
    # and it releases the lock first.
    (forever
      (def conn (s :conn))
      (unless conn (break))
      (def p (n/to-int (f/mojo-tls-conn-pending-output conn)))
      (unless (pos? p) (break))
      # The stream's own buffer, reused: the write has completed when
      # transport-write returns, and the tx lock keeps other flushes out.
      (def out (or (s :wire-tx) (let [b @""] (put s :wire-tx b) b)))
      (when (< (length out) p) (put out (- p 1) 0))
      (def k (n/to-int (f/mojo-tls-conn-drain conn out p)))
      (when (<= k 0) (break))
      (buffer/popn out (- (length out) k))
      (transport-write s out deadline what lock))
    (release lock)))

(defn- flush [s deadline what]
  (ensure-open s what)
  (flush-raw s deadline what))

(defn- record-end
  "The length of the first whole TLS record in `buf` (header + body), or nil."
  [buf]
  (when (>= (length buf) 5)
    (def n (+ 5 (* 256 (get buf 3)) (get buf 4)))
    (when (>= (length buf) n) n)))

(defn- feed-record
  ``Feed the library one whole record from (s :rx-pending), reading the
  transport for more as needed (or what is left, then EOF, at its end).
  With :close-transport false the transport goes back to the caller after
  the peer's close_notify, so nothing past the record that carries it may
  reach the library: those bytes stay in :rx-pending (see :leftover).``
  [s deadline what]
  (def pend (s :rx-pending))
  (while (and (not (record-end pend)) (not (s :eof)))
    (def got (transport-read s deadline what))
    (ensure-open s what)
    (if got (buffer/push pend got) (put s :eof true)))
  (if-let [k (record-end pend)]
    (do
      (f/mojo-tls-conn-feed (s :conn) pend k)
      (put s :rx-pending (buffer/slice pend k)))
    (do
      (f/mojo-tls-conn-feed (s :conn) pend (length pend))
      (buffer/clear pend)
      (f/mojo-tls-conn-feed-eof (s :conn)))))

(defn- fill
  "Receive more ciphertext from the transport and feed it to the connection
  (or feed EOF). With several fibers waiting for input, one reads and the
  others retry once it has fed something."
  [s deadline what]
  (def gen (s :rx-gen))
  (def lock (s :rx-lock))
  (acquire lock deadline what)
  (if (s :rx-pending)
    (defer (release lock)
      (ensure-open s what)
      (when (= gen (s :rx-gen))
        (when (and (s :eof) (empty? (s :rx-pending)))
          (n/fail f/MOJO_TLS_ERR_TRUNCATED "the transport ended" what))
        (feed-record s deadline what)
        (put s :rx-gen (+ 1 gen))))
    (do
      # The data path, without a `defer` (a fiber per read): every way out
      # releases the lock itself, transport-read on its errors.
      (when (or (s :closed) (s :broken)) (release lock) (ensure-open s what))
      (when (= gen (s :rx-gen))
        (when (s :eof)
          (release lock)
          (n/fail f/MOJO_TLS_ERR_TRUNCATED "the transport ended" what))
        (def got (transport-read s deadline what lock))
        (when (or (s :closed) (s :broken)) (release lock) (ensure-open s what))
        (if got
          (f/mojo-tls-conn-feed (s :conn) got (length got))
          (do
            (put s :eof true)
            (f/mojo-tls-conn-feed-eof (s :conn))))
        (put s :rx-gen (+ 1 gen)))
      (release lock))))

(defn- settle
  ``After a library call returning `r`: on a real error, raise it (after
  sending what the library queued, e.g. an alert); else send queued
  ciphertext. Returns r.``
  [s r deadline what]
  (if (or (>= r 0) (= r WANT_READ))
    (flush s deadline what)
    (do
      (def msg (n/last-error-message))
      (protect (flush-raw s (deadline-of 1) what))
      (when (s :closed) (closed-fail what))
      (n/fail r msg what)))
  r)

# ---- streams ------------------------------------------------------------------

(def- conn-of i/conn-of)

(defn- handshake* [s deadline what]
  (while (not (s :handshaken))
    (i/handshake-begin s)
    (pace/step)
    (def r (n/to-int (f/mojo-tls-conn-handshake (conn-of s what))))
    (settle s r deadline what)
    (if (= r 0)
      (do (put s :handshaken true) (i/handshake-done s))
      (fill s deadline what))))

(defn- end-view
  ``A buffer over the `n` bytes of `buf` after its first `at` (its memory:
  no copy), to pass to the FFI. Valid only until `buf` grows.``
  [buf at n]
  (if (zero? at)
    buf
    (ffi/pointer-buffer (ffi/read :ptr (ffi/write :ptr buf)) n 0 at)))

(defn- read-some
  "Append up to `maxn` plaintext bytes to `out`; returns the count, or nil at EOF."
  [s out maxn deadline what]
  (var result nil)
  (var done false)
  (def want (min maxn read-step))
  (while (not done)
    # Decrypted straight into `out`, past its end, and `out` cut back to
    # what came before anything can yield (settle may: a flushed alert or
    # KeyUpdate answer), so no other fiber ever sees the unfilled room.
    # `out` is the caller's: nothing is shared between streams.
    (def at (length out))
    (put out (+ at want -1) 0)
    (def r (n/to-int (f/mojo-tls-conn-read (conn-of s what) (end-view out at want) want)))
    (buffer/popn out (if (> r 0) (- want r) want))
    (settle s r deadline what)
    (cond
      (> r 0) (do (set result r) (set done true))
      (= r 0) (set done true)
      (fill s deadline what)))
  result)

(defn- io-args [s n buf timeout what]
  (unless (or (= n :all) (and (int? n) (>= n 0)))
    (n/invalid "%s: n must be a non-negative integer or :all, got %v" what n))
  (unless (or (nil? buf) (buffer? buf))
    (n/invalid "%s: buf must be a buffer, got %v" what (type buf)))
  (check-timeout timeout what)
  (deadline-of (if (nil? timeout) (s :timeout) timeout)))

(defn- stream-read [s n &opt buf timeout]
  (def what ":read")
  (ensure-open s what)
  (def deadline (io-args s n buf timeout what))
  (def out (or buf @""))
  (cond
    (= n 0) out
    (= n :all)
    (do
      (var total 0)
      (while (def got (read-some s out 1000000 deadline what))
        (+= total got))
      (if (zero? total) nil out))
    (do
      (def got (read-some s out n deadline what))
      (if (nil? got)
        nil
        (do
          # Hand over what is already decrypted, without more I/O.
          (var left (- n got))
          (while (and (pos? left) (pos? (n/to-int (f/mojo-tls-conn-pending (conn-of s what)))))
            (def more (read-some s out left deadline what))
            (if more (-= left more) (break)))
          out)))))

(defn- stream-chunk [s n &opt buf timeout]
  (def what ":chunk")
  (ensure-open s what)
  (def deadline (io-args s n buf timeout what))
  (def out (or buf @""))
  (if (= n :all)
    (stream-read s :all buf timeout)
    (do
      (var left n)
      (var total 0)
      (while (pos? left)
        (def got (read-some s out left deadline what))
        (unless got (break))
        (-= left got)
        (+= total got))
      (if (and (zero? total) (pos? n)) nil out))))

(defn- stream-write [s data &opt timeout]
  (def what ":write")
  (ensure-open s what)
  (unless (or (string? data) (buffer? data))
    (n/invalid "%s: data must be a string or buffer, got %v" what (type data)))
  (check-timeout timeout what)
  (def deadline (deadline-of (if (nil? timeout) (s :timeout) timeout)))
  (def total (length data))
  (var off 0)
  (var accepted false)
  (try
    (while (< off total)
      (def len (min write-step (- total off)))
      # A buffer slice: a string slice would hash every byte.
      (def piece (if (= off 0) data (buffer/slice data off (+ off len))))
      (def r (n/to-int (f/mojo-tls-conn-write (conn-of s what) piece len)))
      (when (> r 0) (set accepted true))
      (settle s r deadline what)
      (cond
        (> r 0) (+= off r)
        (= r WANT_READ) (fill s deadline what)
        (n/fail f/MOJO_TLS_ERR_INTERNAL (string "unexpected write result " r) what)))
    ([e fb]
      # Once the library has taken some of `data`, its records go out later
      # or never: the caller cannot know which bytes the peer will see, so
      # neither a retry nor carrying on is safe.
      (when (and accepted (not (s :closed)))
        (break-stream s (string "an earlier :write failed after sending part of its data ("
                                (if (n/error-code e) (e :message) (string/format "%q" e)) ")")
                      what))
      (propagate e fb)))
  nil)

(defn- stream-close [s &opt timeout]
  (unless (s :closed)
    (put s :closed true)
    (def conn (s :conn))
    # A best-effort close_notify, unless another fiber is sending.
    (when (and conn (s :handshaken) (not (s :broken)) (pos? (ev/count (s :tx-lock))))
      (protect
        (f/mojo-tls-conn-close-notify conn)
        (flush-raw s (deadline-of (or timeout (s :close-timeout))) ":close")))
    (put s :conn nil)
    (when conn
      (reclaim/untrack conn)
      (f/mojo-tls-conn-free conn))
    (def tr (s :tr))
    (if (s :close-transport)
      (protect (:close tr))
      # The transport stays open: wake a fiber still waiting on it.
      (when-let [task (s :rx-task)]
        (protect (ev/cancel task "the TLS stream is closed"))))
    (when-let [c (s :owned-config)]
      (put s :owned-config nil)
      (:close c)))
  nil)

(defn- stream-shutdown [s &opt timeout]
  (def what ":shutdown")
  (ensure-open s what)
  (check-timeout timeout what)
  (def deadline (deadline-of (if (nil? timeout) (s :timeout) timeout)))
  (def r (n/to-int (f/mojo-tls-conn-close-notify (conn-of s what))))
  (settle s r deadline what)
  nil)

(defn- stream-handshake [s &opt timeout]
  (def what ":handshake")
  (ensure-open s what)
  (check-timeout timeout what)
  (handshake* s (deadline-of (if (nil? timeout) (s :timeout) timeout)) what)
  s)

(defn- stream-key-update [s &opt request-peer timeout]
  (def what ":key-update")
  (ensure-open s what)
  (check-timeout timeout what)
  (def deadline (deadline-of (if (nil? timeout) (s :timeout) timeout)))
  (def r (n/to-int (f/mojo-tls-conn-key-update (conn-of s what) (if request-peer 1 0))))
  (settle s r deadline what)
  nil)


(def- Stream
  @{:type :mojo-tls/stream
    :read stream-read
    :chunk stream-chunk
    :write stream-write
    :close stream-close
    :shutdown stream-shutdown
    :handshake stream-handshake
    :closed? (fn closed? [s] (truthy? (s :closed)))
    :leftover (fn leftover [s]
                ``With :close-transport false: the bytes read from the transport
                after the TLS stream's end (the record with the peer's
                close_notify), which belong to whatever follows on it; taken
                once. Empty otherwise.``
                (def pend (s :rx-pending))
                (if pend
                  (do (def out (string pend)) (buffer/clear pend) out)
                  ""))
    :server? (fn server? [s] (truthy? (s :server)))
    :transport (fn transport [s] (s :tr))
    :localname (fn localname [s] (net/localname (s :tr)))
    :peername (fn peername [s] (net/peername (s :tr)))
    :key-update stream-key-update})

(merge-into Stream i/methods)

(defn stream?
  "True for a TLS stream of this package."
  [x]
  (and (table? x) (= (get x :type) :mojo-tls/stream)))

(defn- wrap-stream
  ``A TLS stream over the Janet stream `tr` (memory mode), not handshaken.
  On failure nothing is leaked except `tr` and the config (the caller's).``
  [cfg tr server-name opts server]
  (def h (cfg-handle cfg "wrap"))
  (def conn (n/check-handle (f/mojo-tls-conn-new-memory h (n/c-str server-name ":sni")) "wrap"))
  (def s (table/setproto
           @{:conn conn :tr tr :server server
             :rx-lock (make-lock) :tx-lock (make-lock) :rx-gen 0
             :timeout (check-timeout (get opts :timeout) "timeout")
             :close-timeout (or (check-timeout (get opts :close-timeout) "close-timeout") 2)
             :close-transport (not= false (get opts :close-transport))
             # Record by record when the transport outlives the stream.
             :rx-pending (when (= false (get opts :close-transport)) @"")}
           Stream))
  # Freed when `s` is collected unclosed (its transport closes itself then).
  (reclaim/track s conn f/mojo-tls-conn-free)
  (def ok (protect
            (when-let [blob (get opts :session)]
              (n/bytes-arg blob ":session")
              (n/check (f/mojo-tls-conn-session-import conn blob (length blob)) ":session"))
            (when-let [data (get opts :initial-data)]
              (n/bytes-arg data ":initial-data")
              (if-let [pend (s :rx-pending)]
                (buffer/push pend data)
                (f/mojo-tls-conn-feed conn data (length data))))))
  (unless (ok 0)
    (put s :conn nil)
    (reclaim/untrack conn)
    (f/mojo-tls-conn-free conn)
    (error (ok 1)))
  s)

(defn- start
  "Handshake `s` (unless opts :handshake is false); close it and re-raise on failure."
  [s opts deadline what]
  (when (not= false (get opts :handshake))
    (def ok (protect (handshake* s deadline what)))
    (unless (ok 0)
      (stream-close s)
      (error (ok 1))))
  s)

(defn- port-arg [port what]
  (cond
    (and (int? port) (>= port 0) (<= port 65535)) port
    (and (bytes? port) (scan-number port)) (port-arg (scan-number port) what)
    (n/invalid "%s: bad port %v" what port)))

(defn connect
  ``Connect to `host`:`port` over TCP and handshake as a client. `host` is
  the name verified in the server's certificate and sent as SNI (an IP
  address is matched against the certificate's IP SANs), unless :sni names
  another. Options: those of tls/config (or :config, a shared one), plus
    :timeout   seconds for the connect + handshake, and the default for
               later reads and writes (nil: no limit)
    :sni       the server name to verify and send
    :session   a blob from (:session s) of an earlier connection, to resume``
  [host port &opt opts]
  (def what "connect")
  (default opts {})
  (check-opts opts what)
  (def host (n/c-str host "host"))
  (def port (port-arg port what))
  (def timeout (check-timeout (get opts :timeout) what))
  (def deadline (deadline-of timeout))
  (def [cfg owned] (config-for opts false what))
  (def tr (try
            (within deadline what (fn [] (net/connect host port)))
            ([e fb]
              (when owned (:close cfg))
              (if (n/error-code e) (propagate e fb)
                (n/fail f/MOJO_TLS_ERR_CONNECT (string "connect to " host ":" port ": " e) what)))))
  (def sni (get opts :sni (get opts :server-name host)))
  (def ws (protect (wrap-stream cfg tr sni opts false)))
  (unless (ws 0)
    (:close tr)
    (when owned (:close cfg))
    (error (ws 1)))
  (def s (ws 1))
  (when owned (put s :owned-config cfg))
  (start s opts deadline what))

(defn upgrade
  ``STARTTLS: run TLS over `stream`, an already connected Janet stream
  (from net/connect, net/accept, ...), and handshake. A client verifies
  `hostname` (nil only with :check-hostname false or :verify false); with
  {:server true} (and :cert/:key or a server :config) it is the server side
  and `hostname` is ignored. The TLS stream owns `stream` and closes it on
  :close unless :close-transport is false. Options: those of tls/connect,
  plus :initial-data (ciphertext already read from `stream`) and
  :handshake false (handshake on first use).``
  [stream hostname &opt opts]
  (def what "upgrade")
  (default opts {})
  (check-opts opts what)
  (def server (truthy? (get opts :server (when-let [c (get opts :config)] (and (config? c) (c :server))))))
  (def timeout (check-timeout (get opts :timeout) what))
  (def deadline (deadline-of timeout))
  (def [cfg owned] (config-for opts server what))
  (when server (require-cert cfg owned what))
  (def ws (protect (wrap-stream cfg stream (if server nil (get opts :sni hostname)) opts server)))
  (unless (ws 0)
    (when owned (:close cfg))
    (error (ws 1)))
  (def s (ws 1))
  (when owned (put s :owned-config cfg))
  (start s opts deadline what))

# ---- servers ------------------------------------------------------------------

(defn- listener-stream [l what]
  (or (get l :stream) (n/fail f/MOJO_TLS_ERR_CLOSED "the TLS listener is closed" what)))

(defn accept
  ``Accept one client on a listener from tls/listen and handshake, within
  :timeout seconds (from `opts`, else the listener's). Returns the TLS
  stream; a failed handshake closes the client and raises.``
  [listener &opt opts]
  (def what "accept")
  (default opts {})
  (check-opts opts what)
  (def timeout (check-timeout (get opts :timeout (listener :timeout)) what))
  (def deadline (deadline-of timeout))
  (def ls (listener-stream listener what))
  (def tr (try
            (net/accept ls (remaining deadline what))
            ([e fb]
              (cond
                (n/error-code e) (propagate e fb)
                (= e "timeout") (timeout-fail what)
                (nil? (listener :stream)) (n/fail f/MOJO_TLS_ERR_CLOSED "the TLS listener is closed" what)
                (n/fail f/MOJO_TLS_ERR_IO (string "accept: " e) what)))))
  (unless tr (n/fail f/MOJO_TLS_ERR_CLOSED "the TLS listener is closed" what))
  (def ws (protect (wrap-stream (listener :config) tr nil (merge {:timeout timeout} opts) true)))
  (unless (ws 0)
    (:close tr)
    (error (ws 1)))
  (start (ws 1) opts deadline what))

(def- Listener
  @{:type :mojo-tls/listener
    :accept accept
    :close (fn close [l]
             "Stop listening (idempotent); connections already accepted stay open."
             (when-let [st (get l :stream)]
               (put l :stream nil)
               (protect (:close st)))
             (when-let [c (get l :owned-config)]
               (put l :owned-config nil)
               (:close c))
             nil)
    :closed? (fn closed? [l] (nil? (get l :stream)))
    :localname (fn localname [l] (net/localname (listener-stream l ":localname")))
    :port (fn port [l] (get (net/localname (listener-stream l ":port")) 1))})

(defn listener?
  "True for a listener from tls/listen or tls/server."
  [x]
  (and (table? x) (= (get x :type) :mojo-tls/listener)))

(defn listen
  ``Listen on `host`:`port` (port 0 = any free port; see (:port l)) for TLS
  clients. `opts` are those of tls/config for the server side (:cert and
  :key are required unless :config is given) plus :timeout, the default for
  tls/accept and the accepted streams. Returns a listener with :accept,
  :close, :port and :localname.``
  [host port &opt opts]
  (def what "listen")
  (default opts {})
  (check-opts opts what)
  (def host (n/c-str host "host"))
  (def port (port-arg port what))
  (def [cfg owned] (config-for opts true what))
  # Without one every handshake would fail, quietly in tls/server.
  (require-cert cfg owned what)
  (def st (try
            (net/listen host port)
            ([e fb]
              (when owned (:close cfg))
              (n/fail f/MOJO_TLS_ERR_IO (string "listen on " host ":" port ": " e) what))))
  (table/setproto @{:stream st :config cfg :owned-config (when owned cfg)
                    :timeout (check-timeout (get opts :timeout) what)}
                  Listener))

(defn server
  ``Like net/server: listen on `host`:`port` and call (handler stream) in a
  new fiber for every client whose handshake succeeds (within
  :handshake-timeout seconds, default 30); the stream is closed when the
  handler returns. (on-error err stream-or-nil), when given in `opts`,
  receives every error: failed handshakes and accepts, and errors of the
  handler. Without it, handler errors are reported on stderr with their
  stack trace (as net/server's uncaught errors are) and failed handshakes
  are ignored. Returns the listener; (:close listener) stops accepting.``
  [host port handler &opt opts]
  (default opts {})
  (def l (listen host port opts))
  (def on-error (get opts :on-error))
  (def hs-timeout (check-timeout (get opts :handshake-timeout 30) "server"))
  (defn report [e s] (when on-error (protect (on-error e s))))
  (defn serve-one [tr]
    (var s nil)
    (defer (if s (stream-close s) (protect (:close tr)))
      (def ok (protect
                (set s (wrap-stream (l :config) tr nil opts true))
                (handshake* s (deadline-of hs-timeout) "accept")))
      (if (ok 0)
        (try
          (handler s)
          ([e fb]
            (if on-error
              (report e s)
              (debug/stacktrace fb e "tls/server handler: "))))
        (report (ok 1) s))))
  (ev/go
    (fn accept-loop []
      (while (l :stream)
        (def r (protect (net/accept (l :stream))))
        (cond
          (not (r 0)) (do (when (l :stream) (report (r 1) nil)) (break))
          (nil? (r 1)) (break)
          (ev/go (fn [] (serve-one (r 1))))))))
  l)
