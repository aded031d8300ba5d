# A DTLS stream: one memory-mode DTLS connection whose datagrams travel
# through two functions the creator supplies, so the same code serves a
# client (its own connected UDP socket) and a server's peer (datagrams
# handed over by the listener's demultiplexer, replies sent from the
# listener's socket). Used by mojo_tls/dtls; not a public API.
#
# A stream table holds :conn (the native connection), :recv
# (fn [s timeout what] -> a datagram, nil to ignore, or :timeout),
# :send (fn [s datagram what]), :tx-lock, and :on-close (fn [s]).
# Nothing here blocks the loop: the library only processes buffers, and
# every wait is a Janet wait bounded by the retransmission timer and the
# caller's deadline.

(import ./ffi :as f)
(import ./native :as n)
(import ./reclaim)
(import ./info :as i)
(import ./pace)

(def- WANT_READ f/MOJO_TLS_ERR_WANT_READ)
# The largest plaintext one DTLS record carries: a read buffer this big
# always fits a datagram.
(def max-plaintext 16384)

(defn now [] (os/clock :monotonic))

(defn timeout-fail [what]
  (n/fail f/MOJO_TLS_ERR_TIMEOUT (string what " timed out") what))

(defn check-timeout [t what]
  (unless (or (nil? t) (and (number? t) (>= t 0)))
    (n/invalid "%s: timeout must be nil or a non-negative number of seconds, got %v" what t))
  t)

(defn deadline-of [timeout] (when timeout (+ (now) timeout)))

(defn take-within
  ``Take from channel `ch` within `timeout` seconds (nil: no limit): the
  value, nil once the channel is closed, or :timeout. A timed-out take
  consumes nothing (Janet skips a cancelled taker).``
  [ch timeout]
  (cond
    (or (nil? timeout) (pos? (ev/count ch))) (ev/take ch)
    (<= timeout 0) :timeout
    (let [fib (fiber/new (fn [] (ev/take ch)) :yi)
          until (+ (now) timeout)]
      (ev/deadline timeout nil fib)
      (try
        (resume fib)
        # Ours, or the caller's own ev/with-deadline (the same message)?
        # Only ours has passed `until`; the caller's goes on up.
        ([e fb] (if (and (= e "deadline expired") (>= (now) (- until 0.001)))
                  :timeout
                  (propagate e fb)))))))

# ---- fiber locks (a channel holding one token) --------------------------------

(defn make-lock [] (def c (ev/chan 1)) (ev/give c true) c)

(defn- acquire [lock deadline what]
  (def got (take-within lock (when deadline (- deadline (now)))))
  (when (= got :timeout) (timeout-fail what)))

(defn- release [lock] (ev/give lock true))

# ---- state --------------------------------------------------------------------

(defn ensure-open
  "Raise the reason `s` was dropped (idle, listener closed), or :closed."
  [s what]
  (when-let [e (s :dropped)] (error e))
  (when (s :closed) (i/closed-fail what)))

(defn- conn-of [s what] (ensure-open s what) (s :conn))

# ---- datagrams out --------------------------------------------------------------

(defn flush
  "Send every datagram the connection has queued, one send each, in order."
  [s what]
  (def lock (s :tx-lock))
  (acquire lock nil what)
  (defer (release lock)
    (forever
      (def conn (s :conn))
      (unless conn (break))
      (def buf (or (s :wire-tx) (let [b (buffer/new-filled 2048)] (put s :wire-tx b) b)))
      (def k (n/to-int (f/mojo-tls-conn-drain-datagram conn buf (length buf))))
      (cond
        (<= k 0) (break)
        # Too big for the buffer: it stays queued; grow and drain again.
        (> k (length buf)) (put s :wire-tx (buffer/new-filled k))
        ((s :send) s (buffer/slice buf 0 k) what)))))

(defn- settle
  ``After a library call that returned `r`: send what it queued; on an
  error, raise it (after sending the alert the library may have queued).``
  [s r what]
  (if (or (>= r 0) (= r WANT_READ))
    (flush s what)
    (do
      (def msg (n/last-error-message))
      (protect (flush s what))
      (ensure-open s what)
      (n/fail r msg what)))
  r)

# ---- datagrams in ---------------------------------------------------------------

(defn- wait-input
  ``Wait for one datagram and feed it, at most until the retransmission
  timer expires (the caller then calls the library again, which resends
  its last flight) or `deadline` passes (:timeout).``
  [s deadline what]
  (def t (n/to-int (f/mojo-tls-conn-next-timeout-ms (conn-of s what))))
  (def timer (when (>= t 0) (/ t 1000)))
  (def left (when deadline (- deadline (now))))
  (when (and left (<= left 0)) (timeout-fail what))
  (def wait (if (and timer left) (min timer left) (or timer left)))
  (def d ((s :recv) s wait what))
  (ensure-open s what)
  (when (and (or (string? d) (buffer? d)) (pos? (length d)))
    (put s :last-seen (now))
    (f/mojo-tls-conn-feed-datagram (s :conn) d (length d))))

# ---- operations ---------------------------------------------------------------

(defn handshake
  "Run the handshake to its end within `deadline` (absolute, nil: none)."
  [s deadline what]
  (def lock (s :rx-lock))
  (acquire lock deadline what)
  (defer (release lock)
    (while (not (s :handshaken))
      (pace/step)
      (def r (n/to-int (f/mojo-tls-conn-handshake (conn-of s what))))
      (settle s r what)
      (if (= r 0)
        (put s :handshaken true)
        (wait-input s deadline what))))
  s)

(defn- too-small [s n what]
  (def need (n/to-int (f/mojo-tls-conn-pending (s :conn))))
  (n/invalid "%s: the datagram holds %d bytes, more than n = %d: read again with a larger n (it is kept)"
             what need n))

(defn read
  ``One datagram's plaintext (appended to `buf`, or a new buffer), nil
  once the peer's close_notify arrived. `n` (default 16384) is the most it
  may hold: a larger datagram raises :invalid-argument and is kept for the
  next read.``
  [s &opt n buf timeout]
  (def what ":read")
  (default n max-plaintext)
  (unless (and (int? n) (> n 0))
    (n/invalid "%s: n must be a positive integer, got %v" what n))
  (unless (or (nil? buf) (buffer? buf))
    (n/invalid "%s: buf must be a buffer, got %v" what (type buf)))
  (check-timeout timeout what)
  (ensure-open s what)
  (if (s :eof)
    nil
    (do
      (def deadline (deadline-of (if (nil? timeout) (s :timeout) timeout)))
      (def lock (s :rx-lock))
      (acquire lock deadline what)
      (defer (release lock)
        (def cap (min n max-plaintext))
        (def tmp (let [b (s :rx-buf)]
                   (if (and b (>= (length b) cap)) b
                     (let [nb (buffer/new-filled cap)] (put s :rx-buf nb) nb))))
        (var result nil)
        (forever
          (def r (n/to-int (f/mojo-tls-conn-read (conn-of s what) tmp cap)))
          (cond
            (> r 0) (do
                      (set result (if buf (buffer/blit buf tmp -1 0 r) (buffer/slice tmp 0 r)))
                      (protect (flush s what))
                      (break))
            (= r 0) (do (put s :eof true) (protect (flush s what)) (break))
            (= r WANT_READ) (do (flush s what) (wait-input s deadline what))
            (= r f/MOJO_TLS_ERR_INVALID_ARGUMENT) (too-small s n what)
            (settle s r what)))
        result))))

(defn write
  ``Send `data` as one datagram (one record). Data larger than one
  datagram can carry raises :invalid-argument; the stream goes on.
  `timeout` is checked for symmetry with TLS streams: a UDP send does not
  wait for the peer.``
  [s data &opt timeout]
  (def what ":write")
  (unless (bytes? data)
    (n/invalid "%s: data must be a string or buffer, got %v" what (type data)))
  (when (empty? data)
    (n/invalid "%s: an empty datagram cannot be sent (the peer could not tell it from nothing)" what))
  (check-timeout timeout what)
  (def r (n/to-int (f/mojo-tls-conn-write (conn-of s what) data (length data))))
  (cond
    (= r (length data)) (flush s what)
    (= r f/MOJO_TLS_ERR_INVALID_ARGUMENT)
    (n/invalid "%s: %d bytes do not fit in one datagram (%s); the stream goes on"
               what (length data) (n/last-error-message))
    (< r 0) (settle s r what)
    (n/fail f/MOJO_TLS_ERR_INTERNAL (string "a DTLS write took " r " of " (length data) " bytes") what))
  nil)

(defn free-conn
  "Free the native connection of `s` (idempotent)."
  [s]
  (when-let [conn (s :conn)]
    (put s :conn nil)
    (reclaim/untrack conn)
    (f/mojo-tls-conn-free conn)))

(defn close
  "Send close_notify (best effort, once handshaken), free everything; idempotent."
  [s &opt timeout]
  (unless (s :closed)
    (when (and (s :conn) (s :handshaken) (not (s :dropped)))
      (protect
        (f/mojo-tls-conn-close-notify (s :conn))
        (flush s ":close")))
    (put s :closed true)
    (free-conn s)
    (when-let [on-close (s :on-close)] (protect (on-close s)))
    (when-let [c (s :owned-config)]
      (put s :owned-config nil)
      (:close c)))
  nil)

(defn drop-stream
  ``End `s` from outside (idle, listener closed): later operations raise
  `err`; a fiber waiting in :read wakes through on-close.``
  [s err]
  (unless (s :closed)
    (put s :dropped err)
    (close s)))

(def Stream
  (merge
    i/methods
    @{:type :mojo-tls/dtls-stream
      :read read
      :write write
      :close close
      :closed? (fn closed? [s] (truthy? (s :closed)))
      :server? (fn server? [s] (truthy? (s :server)))
      :peername (fn peername [s] (s :peer))
      :localname (fn localname [s] (s :local))
      :mtu (fn mtu [s] (s :path-mtu))}))

(defn new
  ``A stream over the memory-mode DTLS connection `conn` (tracked: freed
  when `fields`' table is collected unclosed).``
  [conn fields]
  (def s (table/setproto (merge @{:conn conn :rx-lock (make-lock) :last-seen (now)} fields) Stream))
  (unless (s :tx-lock) (put s :tx-lock (make-lock)))
  (reclaim/track s conn f/mojo-tls-conn-free)
  s)
