# mojo_tls/bio — TLS over any transport: a memory stream that takes the
# peer's ciphertext from you (:feed) and gives you ciphertext to send
# (:drain). It never does I/O and never waits, so it runs over anything
# that moves bytes: a pipe, a custom protocol's frames, another process, or
# a second memory stream in the same fiber.
#
#   (import mojo_tls/bio)
#   (def b (bio/new {:ca ca} "localhost"))      # a client
#   (var r (:handshake b))
#   (while (= r :want-read)
#     (send (:drain b))                         # ciphertext for the peer
#     (:feed b (receive))                       # ciphertext from the peer
#     (set r (:handshake b)))
#   (send (:drain b))
#
# Every call that returns :want-read needs more input from the peer; after
# every call, send what (:drain b) returns. Errors are raised as the
# package's error structs (see mojo_tls/tls); an alert for the peer may
# still be queued then: drain it.

(import ./ffi :as f)
(import ./native :as n)
(import ./reclaim)
(import ./info :as i)
(import ./tls)

(def- WANT_READ f/MOJO_TLS_ERR_WANT_READ)
# The most one library read returns: the fast record layer decrypts up to
# 256 KiB at once, so reads in large steps take fewer FFI calls.
(def- read-step 262144)

(defn- conn-of [b what] (i/conn-of b what))

(defn- bio-handshake [b]
  (def what ":handshake")
  (if (b :handshaken)
    true
    (do
      (i/handshake-begin b)
      (def r (n/to-int (f/mojo-tls-conn-handshake (conn-of b what))))
      (cond
        (= r 0) (do (put b :handshaken true) (i/handshake-done b) true)
        (= r WANT_READ) :want-read
        (n/raise-last what r)))))

(defn- bio-feed [b data]
  (def what ":feed")
  (n/bytes-arg data "data")
  (n/check (f/mojo-tls-conn-feed (conn-of b what) data (length data)) what))

(defn- bio-feed-eof [b]
  (def what ":feed-eof")
  (n/check (f/mojo-tls-conn-feed-eof (conn-of b what)) what)
  nil)

(defn- bio-pending-output [b]
  (def what ":pending-output")
  (n/check (f/mojo-tls-conn-pending-output (conn-of b what)) what))

(defn- bio-drain [b &opt buf]
  (def what ":drain")
  (unless (or (nil? buf) (buffer? buf))
    (n/invalid "%s: buf must be a buffer, got %v" what (type buf)))
  (def c (conn-of b what))
  (def p (n/check (f/mojo-tls-conn-pending-output c) what))
  (def out (buffer/new-filled p))
  (def k (if (pos? p) (n/check (f/mojo-tls-conn-drain c out p) what) 0))
  (buffer/popn out (- p k))
  (if buf (buffer/push buf out) out))

(defn- scratch
  "The stream's own read buffer, at least `size` bytes (never shared)."
  [b size]
  (def cur (b :rx-buf))
  (if (and cur (>= (length cur) size))
    cur
    (let [nb (buffer/new-filled size)] (put b :rx-buf nb) nb)))

(defn- bio-read [b n &opt buf]
  (def what ":read")
  (unless (and (int? n) (> n 0))
    (n/invalid "%s: n must be a positive integer, got %v" what n))
  (unless (or (nil? buf) (buffer? buf))
    (n/invalid "%s: buf must be a buffer, got %v" what (type buf)))
  (def c (conn-of b what))
  (def out (or buf @""))
  (def start (length out))
  (var result nil)
  (var done false)
  # Take what is already decrypted, up to n bytes, in as few calls as the
  # library allows; stop at the first call that would need more input.
  (while (not done)
    (def got (- (length out) start))
    (def want (min (- n got) read-step))
    (def tmp (scratch b want))
    (def r (n/to-int (f/mojo-tls-conn-read c tmp want)))
    (cond
      (> r 0) (do
                (buffer/blit out tmp -1 0 r)
                (when (or (>= (+ got r) n) (zero? (n/to-int (f/mojo-tls-conn-pending c))))
                  (set result out)
                  (set done true)))
      (> got 0) (do (set result out) (set done true))
      (= r 0) (set done true)
      (= r WANT_READ) (do (set result :want-read) (set done true))
      (n/raise-last what r)))
  result)

(defn- bio-write [b data]
  (def what ":write")
  (n/bytes-arg data "data")
  (def c (conn-of b what))
  (def total (length data))
  (var off 0)
  (var want-read false)
  (while (and (< off total) (not want-read))
    (def piece (if (= off 0) data (buffer/slice data off)))
    (def r (n/to-int (f/mojo-tls-conn-write c piece (- total off))))
    (cond
      (> r 0) (+= off r)
      (= r WANT_READ) (set want-read true)
      (n/raise-last what r)))
  (if (and want-read (zero? off) (pos? total)) :want-read off))

(defn- bio-close-notify [b]
  (def what ":close-notify")
  (n/check (f/mojo-tls-conn-close-notify (conn-of b what)) what)
  nil)

(defn- bio-key-update [b &opt request-peer]
  (def what ":key-update")
  (n/check (f/mojo-tls-conn-key-update (conn-of b what) (if request-peer 1 0)) what)
  nil)

(defn- bio-close [b]
  (unless (b :closed)
    (put b :closed true)
    (when-let [c (b :conn)]
      (put b :conn nil)
      (reclaim/untrack c)
      (f/mojo-tls-conn-free c))
    (when-let [cfg (b :owned-config)]
      (put b :owned-config nil)
      (:close cfg)))
  nil)

(def- Bio
  (merge
    i/methods
    @{:type :mojo-tls/bio
      :handshake bio-handshake
      :feed bio-feed
      :feed-eof bio-feed-eof
      :drain bio-drain
      :pending-output bio-pending-output
      :read bio-read
      :write bio-write
      :close-notify bio-close-notify
      :key-update bio-key-update
      :close bio-close
      :closed? (fn closed? [b] (truthy? (b :closed)))
      :server? (fn server? [b] (truthy? (b :server)))}))

(defn bio?
  "True for a memory stream made by bio/new."
  [x]
  (and (table? x) (= (get x :type) :mojo-tls/bio)))

(defn new
  ``A memory stream. `config` is a configuration from tls/config (client or
  server), or the options of tls/config to make one (closed with the
  stream). `server-name` (clients) is verified and sent as SNI; nil only
  with :check-hostname false or :verify false. `opts`: :session (a blob
  from (:session b) of an earlier connection, to resume).

  Methods:
    (:handshake b)        true once done; :want-read when it needs input
    (:feed b data)        ciphertext from the peer (returns its length)
    (:feed-eof b)         the transport ended
    (:drain b &opt buf)   the ciphertext to send now (a buffer, empty if
                          none; appended to `buf` when given)
    (:pending-output b)   how many bytes :drain would return
    (:read b n &opt buf)  up to `n` plaintext bytes (a buffer, or appended
                          to `buf`), :want-read when it needs input, nil at
                          the peer's close_notify
    (:write b data)       encrypt `data`: the number of bytes taken (all of
                          them once the handshake is done), :want-read when
                          the handshake needs input first
    (:close-notify b)     queue close_notify (then drain)
    (:key-update b &opt request-peer)  TLS 1.3 KeyUpdate
    (:close b)            free the native connection (idempotent)
  and the information methods of a TLS stream: :version :cipher :alpn
  :server-name :peer-cert :verify-flags :verify-reason :session :resumed?
  :record-layer :pending, plus :server? :closed?.``
  [config &opt server-name opts]
  (def what "bio/new")
  (default opts {})
  (unless (dictionary? opts) (n/invalid "%s: options must be a table or struct, got %v" what (type opts)))
  (eachk k opts (unless (= k :session) (n/invalid "%s: unknown option %v" what k)))
  (def [cfg owned]
    (cond
      (tls/config? config) [config false]
      (dictionary? config) [(tls/config config) true]
      (n/invalid "%s: config must come from tls/config or be its options, got %v" what (type config))))
  (def h (or (cfg :handle)
             (do (when owned (:close cfg))
               (n/fail f/MOJO_TLS_ERR_CLOSED "the TLS configuration is closed" what))))
  (def sn (protect (n/c-str server-name "server-name")))
  (unless (sn 0) (when owned (:close cfg)) (error (sn 1)))
  (def conn (f/mojo-tls-conn-new-memory h (sn 1)))
  (unless conn
    (def e (protect (n/raise-last what)))
    (when owned (:close cfg))
    (error (e 1)))
  (def b (table/setproto @{:conn conn :server (truthy? (cfg :server))
                           :owned-config (when owned cfg)}
                         Bio))
  (reclaim/track b conn f/mojo-tls-conn-free)
  (when-let [blob (opts :session)]
    (def ok (protect
              (n/bytes-arg blob ":session")
              (n/check (f/mojo-tls-conn-session-import conn blob (length blob)) ":session")))
    (unless (ok 0) (bio-close b) (error (ok 1))))
  b)
