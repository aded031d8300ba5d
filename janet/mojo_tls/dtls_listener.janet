# The DTLS server's UDP socket: one Janet datagram socket shared by every
# client, demultiplexed by the sender's address. Used by mojo_tls/dtls; not
# a public API.
#
# One fiber reads the socket (a Janet stream allows one reader). A
# datagram from a known address goes to that peer's queue; one from a new
# address is shown to a fresh memory-mode connection bound to that address
# (mojo_tls_conn_set_peer_id). A ClientHello without a valid cookie is
# answered with a HelloVerifyRequest and that connection is freed at once
# (the library keeps no state for it, and neither do we): only a client
# that returns its cookie from its own address gets a peer entry and is
# queued for dtls/accept. The peer table is bounded (:max-peers) and peers
# silent for :idle-timeout seconds are dropped.

(import ./ffi :as f)
(import ./native :as n)
(import ./pace)
(import ./dtls_stream :as ds)

(def- WANT_READ f/MOJO_TLS_ERR_WANT_READ)
# Datagrams waiting for one peer; beyond this the newest is dropped, as a
# full socket buffer would (DTLS retransmits handshake flights; application
# data may be lost anyway).
(def- peer-queue 256)
(def- max-datagram 65536)

(defn- addr-key
  "The peer id of a socket address: its host and port as text."
  [addr]
  (def [host port] (net/address-unpack addr))
  (string host " " port))

(defn- send-to [l addr data what]
  # Serialised: a Janet stream has one pending writer at a time.
  (def lock (l :tx-lock))
  (ev/take lock)
  (defer (ev/give lock true)
    (try
      (net/send-to (l :sock) addr data)
      ([e fb]
        (if (n/error-code e) (propagate e fb)
          (n/fail f/MOJO_TLS_ERR_IO (string "send to the peer: " e) what))))))

(defn- closed-listener [what]
  (n/fail f/MOJO_TLS_ERR_CLOSED "the DTLS listener is closed" what))

(defn- remove-peer [l s]
  (when (= s (get-in l [:peers (s :key)]))
    (put (l :peers) (s :key) nil))
  (ev/chan-close (s :queue)))

(defn- promote
  "Make the stream of a client whose cookie was valid and queue it for accept."
  [l conn addr key]
  (def s (ds/new conn @{:server true :peer (net/address-unpack addr) :key key
                        :queue (ev/chan peer-queue)
                        :timeout (l :timeout) :path-mtu (l :mtu)
                        :local (net/localname (l :sock))
                        :recv (fn [s timeout what]
                                (def d (ds/take-within (s :queue) timeout))
                                (ds/ensure-open s what)
                                (if (nil? d) (closed-listener what) d))
                        :send (fn [s data what] (send-to l addr data what))
                        :on-close (fn [s] (remove-peer l s))}))
  (put (l :peers) key s)
  (if (< (ev/count (l :accept-queue)) (l :backlog))
    (ev/give (l :accept-queue) s)
    # Nobody accepts fast enough: forget the client (it times out).
    (ds/drop-stream s (n/tls-error f/MOJO_TLS_ERR_IO "the accept queue was full" "accept"))))

(defn- first-contact
  ``A datagram from an address without a peer: answer it statelessly
  (HelloVerifyRequest), drop it, or (valid cookie) make a peer.``
  [l addr key d]
  (when (< (length (l :peers)) (l :max-peers))
    (def conn (f/mojo-tls-conn-new-memory ((l :config) :handle) nil))
    (when conn
      (var kept false)
      (defer (unless kept (f/mojo-tls-conn-free conn))
        (f/mojo-tls-conn-set-peer-id conn key (length key))
        (when-let [mtu (l :mtu)] (f/mojo-tls-conn-set-mtu conn mtu))
        (f/mojo-tls-conn-feed-datagram conn d (length d))
        (pace/step)
        (def r (n/to-int (f/mojo-tls-conn-handshake conn)))
        (def out (buffer/new-filled 2048))
        (forever
          (def k (n/to-int (f/mojo-tls-conn-drain-datagram conn out (length out))))
          (cond
            (<= k 0) (break)
            (> k (length out)) (buffer/push out (buffer/new-filled (- k (length out))))
            (protect (send-to l addr (buffer/slice out 0 k) "listen"))))
        # A running retransmission timer means the server sent its flight:
        # the cookie was valid. After a HelloVerifyRequest none runs.
        (when (and (= r WANT_READ) (>= (n/to-int (f/mojo-tls-conn-next-timeout-ms conn)) 0)
                   (not (l :closed)))
          (set kept true)
          (promote l conn addr key))))))

(defn- demux [l]
  (def sock (l :sock))
  (def buf (buffer/new max-datagram))
  (while (not (l :closed))
    (buffer/clear buf)
    (def r (protect (net/recv-from sock max-datagram buf)))
    (cond
      (l :closed) (break)
      # ICMP errors of earlier sends (a client went away) surface here;
      # they are no failure of the listener. (A short pause: never a hot loop.)
      (not (r 0)) (ev/sleep 0.001)
      (pos? (length buf))
      (let [addr (r 1)
            key (addr-key addr)
            d (string buf)]
        (if-let [s (get (l :peers) key)]
          (when (< (ev/count (s :queue)) peer-queue)
            (put s :last-seen (ds/now))
            (ev/give (s :queue) d))
          (first-contact l addr key d))))))

(defn- sweep-idle [l]
  (def idle (l :idle-timeout))
  (def period (max 0.05 (min 5 (/ idle 4))))
  (while (not (l :closed))
    # Wakes early when the listener closes (its stop channel closes).
    (ds/take-within (l :stop) period)
    (when (l :closed) (break))
    (def t (ds/now))
    (each s (values (l :peers))
      (when (> (- t (s :last-seen)) idle)
        (ds/drop-stream s (n/tls-error f/MOJO_TLS_ERR_TIMEOUT
                                       (string/format "the peer was silent for %g s and was dropped" idle)
                                       ":read"))))))

(defn open
  ``A listener table on `host`:`port` for the datagram server
  configuration `cfg`, its demultiplexer and idle sweeper running.``
  [host port cfg opts]
  # No SO_REUSEADDR / SO_REUSEPORT: a port in use is an error, not a second
  # socket silently sharing (and splitting) its clients' datagrams.
  (def sock (net/listen host port :datagram true))
  (def l @{:sock sock :config cfg :peers @{} :tx-lock (ev/chan 1) :stop (ev/chan 1)
           :accept-queue (ev/chan (opts :backlog)) :backlog (opts :backlog)
           :max-peers (opts :max-peers) :idle-timeout (opts :idle-timeout)
           :mtu (opts :mtu) :timeout (opts :timeout)})
  (ev/give (l :tx-lock) true)
  (put l :tasks [(ev/go (fn [] (demux l))) (ev/go (fn [] (sweep-idle l)))])
  l)

(defn close
  "Stop the demultiplexer, drop every peer (their streams raise :closed), close the socket."
  [l]
  (unless (l :closed)
    (put l :closed true)
    # The tasks end by themselves: the demultiplexer's read fails once the
    # socket is closed, the sweeper and accept loops see their channels close.
    (ev/chan-close (l :stop))
    (def err (n/tls-error f/MOJO_TLS_ERR_CLOSED "the DTLS listener is closed" ":read"))
    (each s (values (l :peers)) (ds/drop-stream s err))
    (while (pos? (ev/count (l :accept-queue)))
      (ds/drop-stream (ev/take (l :accept-queue)) err))
    (ev/chan-close (l :accept-queue))
    (protect (:close (l :sock))))
  nil)
