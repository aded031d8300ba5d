# mojo_tls/dtls — DTLS 1.2 for Janet over libmojo_tls, under ev.
#
#   (import mojo_tls/dtls)
#   (with [s (dtls/connect "localhost" 4433 {:ca ca :timeout 10})]
#     (:write s "ping")              # one write = one datagram
#     (print (:read s)))             # one read = one datagram's plaintext
#
#   (dtls/server "127.0.0.1" 4433
#                (fn [s] (while (def d (:read s)) (:write s d)))
#                {:cert leaf})
#
# A DTLS stream has :read, :write, :close and the information methods of a
# TLS stream (:version, :cipher, :peer-cert, ...). Record boundaries are
# kept: :read returns exactly one datagram the peer wrote (never part of
# one, never two merged; nil after the peer's close_notify), and a :write
# too large for one datagram raises :invalid-argument with the stream
# still usable. Datagrams may be lost (DTLS does not retransmit
# application data) but are never delivered twice (anti-replay).
#
# Nothing blocks the event loop: every connection runs the library in
# memory mode (mojo_tls_conn_new_memory on a datagram configuration) and
# its datagrams travel over Janet's own UDP sockets; the handshake's
# retransmission timer bounds each wait for a datagram. A client has its
# own connected UDP socket; a server listens on ONE socket and tells its
# clients apart by address (see mojo_tls/dtls_listener). Errors are the
# package's error structs (see mojo_tls/tls).

(import ./ffi :as f)
(import ./native :as n)
(import ./tls)
(import ./dtls_stream :as ds)
(import ./dtls_listener :as dl)

(def- max-datagram 65536)

# ---- options --------------------------------------------------------------------

# The options of tls/config (mojo_tls/tls config-keys), all meaningful here.
(def- config-keys
  [:server :verify :client-auth :check-hostname :ca :ca-file :ca-dir :system-ca
   :cert :key :password :certs :alpn :ciphers :groups :min-version :max-version
   :pins :pin-only :crl :crl-file :keylog :session-tickets :ticket-keys :session-cache
   :fast-record-layer :resumption-without-forward-secrecy])

(def- dtls-config-keys [:retransmit-min :retransmit-max])

(def- conn-keys
  [:config :timeout :sni :server-name :close-timeout :mtu
   :handshake-timeout :on-error :backlog :max-peers :idle-timeout])

(def- known-keys (tabseq [k :in [;config-keys ;dtls-config-keys ;conn-keys]] k true))

(defn- check-opts [opts what]
  (unless (dictionary? opts) (n/invalid "%s: options must be a table or struct, got %v" what (type opts)))
  (eachk k opts
    (unless (known-keys k) (n/invalid "%s: unknown option %v" what k)))
  opts)

(defn- port-arg [port what]
  (cond
    (and (int? port) (>= port 0) (<= port 65535)) port
    (and (bytes? port) (scan-number port)) (port-arg (scan-number port) what)
    (n/invalid "%s: bad port %v" what port)))

(defn- mtu-arg [mtu what]
  (unless (or (nil? mtu) (and (int? mtu) (>= mtu 64) (<= mtu 65535)))
    (n/invalid "%s: :mtu must be an integer from 64 to 65535 (bytes of a datagram), got %v" what mtu))
  mtu)

(defn- count-arg [opts key dflt what]
  (def v (get opts key dflt))
  (unless (and (int? v) (> v 0))
    (n/invalid "%s: %v must be a positive integer, got %v" what key v))
  v)

(defn- seconds-arg [opts key dflt what]
  (def v (get opts key dflt))
  (unless (and (number? v) (> v 0) (< v 1e6))
    (n/invalid "%s: %v must be a positive number of seconds, got %v" what key v))
  v)

# ---- configurations ---------------------------------------------------------------

(defn config
  ``A DTLS configuration, shareable by many connections: the options of
  tls/config, plus
    :retransmit-min :retransmit-max  seconds: an unanswered handshake
                     flight is resent after :retransmit-min, then after
                     twice as long each time; the handshake fails with
                     :timeout once the delay would pass :retransmit-max
                     (defaults 1 and 60)``
  [&opt opts]
  (def what "config")
  (default opts {})
  (check-opts opts what)
  (def tls-opts (table/to-struct (tabseq [[k v] :pairs opts :when (index-of k config-keys)] k v)))
  (def rmin (seconds-arg opts :retransmit-min 1 what))
  (def rmax (seconds-arg opts :retransmit-max 60 what))
  (when (> rmin rmax)
    (n/invalid "%s: :retransmit-min (%v s) is more than :retransmit-max (%v s)" what rmin rmax))
  (def c (tls/config tls-opts))
  (def ok (protect
            (def h (c :handle))
            (n/check (f/mojo-tls-config-set-transport h f/MOJO_TLS_TRANSPORT_DATAGRAM) what)
            (n/check (f/mojo-tls-config-set-dtls-handshake-timeout
                       h (max 1 (math/round (* 1000 rmin))) (max 1 (math/round (* 1000 rmax))))
                     what)))
  (unless (ok 0) (:close c) (error (ok 1)))
  (put c :datagram true)
  c)

(defn config?
  "True for a configuration made by dtls/config."
  [x]
  (and (tls/config? x) (truthy? (x :datagram))))

(defn- config-for
  "The configuration to use for `opts`: [config owned?]."
  [opts server what]
  (if-let [c (get opts :config)]
    (do
      (unless (config? c)
        (n/invalid "%s: :config must come from dtls/config (a tls/config is for TLS over streams)" what))
      (unless (= server (truthy? (c :server)))
        (n/invalid "%s: :config is a %s configuration" what (if (c :server) "server" "client")))
      (unless (c :handle) (n/fail f/MOJO_TLS_ERR_CLOSED "the DTLS configuration is closed" what))
      [c false])
    [(config (merge opts {:server server})) true]))

# ---- clients ------------------------------------------------------------------------

(defn- refused? [e] (and (string? e) (string/find "refused" e)))

(defn- transport-fail
  ``Map a Janet socket error to the package's: refused (an ICMP error: no
  one listens there) is :connect during the handshake, :io after.``
  [s e fb what]
  (ds/ensure-open s what)
  (cond
    (n/error-code e) (propagate e fb)
    # A cancellation (ev/cancel, ev/with-deadline) reaches the caller as is.
    (or (not (string? e)) (= e "deadline expired")) (propagate e fb)
    (refused? e)
    (n/fail (if (s :handshaken) f/MOJO_TLS_ERR_IO f/MOJO_TLS_ERR_CONNECT)
            (string "the peer is unreachable: " e) what)
    (n/fail f/MOJO_TLS_ERR_IO (string "transport: " e) what)))

(defn- client-recv [s timeout what]
  (def buf (or (s :wire-rx) (let [b (buffer/new max-datagram)] (put s :wire-rx b) b)))
  (buffer/clear buf)
  (try
    # nil: an empty datagram, which UDP allows and DTLS ignores.
    (if (net/read (s :tr) max-datagram buf timeout) buf nil)
    ([e fb] (if (= e "timeout") (do (ds/ensure-open s what) :timeout) (transport-fail s e fb what)))))

(defn- client-send [s data what]
  (try
    (net/write (s :tr) data)
    ([e fb] (transport-fail s e fb what))))

(defn connect
  ``Open a UDP socket connected to `host`:`port` and handshake as a DTLS
  client. `host` is the name verified in the server's certificate and
  sent as SNI (an IP address is matched against its IP SANs), unless :sni
  names another. Options: those of dtls/config (or :config, a shared one),
  plus
    :timeout   seconds for the handshake, and the default for later reads
               (nil: the retransmission limit, :retransmit-max, bounds
               the handshake; reads wait for ever)
    :sni       the server name to verify and send
    :mtu       the path MTU in bytes (64..65535): handshake flights are
               fragmented to fit, writes are limited to one datagram``
  [host port &opt opts]
  (def what "connect")
  (default opts {})
  (check-opts opts what)
  (def host (n/c-str host "host"))
  (def port (port-arg port what))
  (def timeout (ds/check-timeout (get opts :timeout) what))
  (def mtu (mtu-arg (get opts :mtu) what))
  (def sni (n/c-str (get opts :sni (get opts :server-name host)) ":sni"))
  (def deadline (ds/deadline-of timeout))
  (def [cfg owned] (config-for opts false what))
  (def tr (try
            (net/connect host port :datagram)
            ([e fb]
              (when owned (:close cfg))
              (n/fail f/MOJO_TLS_ERR_CONNECT (string "connect to " host ":" port ": " e) what))))
  (def conn (f/mojo-tls-conn-new-memory (cfg :handle) sni))
  (unless conn
    (def e (protect (n/raise-last what)))
    (:close tr)
    (when owned (:close cfg))
    (error (e 1)))
  (def s (ds/new conn @{:tr tr :timeout timeout :path-mtu mtu
                        :owned-config (when owned cfg)
                        :peer (net/peername tr) :local (net/localname tr)
                        :recv client-recv :send client-send
                        :on-close (fn [s] (protect (:close tr)))}))
  (def ok (protect
            (when mtu (n/check (f/mojo-tls-conn-set-mtu conn mtu) what))
            (ds/handshake s deadline what)))
  (unless (ok 0)
    (ds/close s)
    (error (ok 1)))
  s)

# ---- servers --------------------------------------------------------------------------

(defn- closed-listener [what]
  (n/fail f/MOJO_TLS_ERR_CLOSED "the DTLS listener is closed" what))

(defn listener?
  "True for a listener from dtls/listen or dtls/server."
  [x]
  (and (table? x) (= (get x :type) :mojo-tls/dtls-listener)))

(defn accept
  ``The next client of a listener from dtls/listen whose cookie was valid,
  handshaken within :timeout seconds (from `opts`, else the listener's).
  Returns its DTLS stream; a failed handshake drops the client and raises.``
  [listener &opt opts]
  (def what "accept")
  (default opts {})
  (check-opts opts what)
  (unless (listener? listener) (n/invalid "%s: not a DTLS listener: %v" what (type listener)))
  (def timeout (ds/check-timeout (get opts :timeout (listener :timeout)) what))
  (def deadline (ds/deadline-of timeout))
  (var result nil)
  (while (nil? result)
    (when (listener :closed) (closed-listener what))
    (def s (ds/take-within (listener :accept-queue) (when deadline (- deadline (ds/now)))))
    (cond
      (= s :timeout) (ds/timeout-fail what)
      (nil? s) (closed-listener what)
      # Dropped while it waited (idle): take the next one.
      (s :closed) nil
      (do
        (def ok (protect (ds/handshake s deadline what)))
        (unless (ok 0)
          (ds/close s)
          (error (ok 1)))
        (set result s))))
  result)

(def- Listener
  @{:type :mojo-tls/dtls-listener
    :accept accept
    :close (fn close [l]
             "Stop listening and end every client's stream (they share the socket); idempotent."
             (dl/close l)
             (when-let [c (get l :owned-config)]
               (put l :owned-config nil)
               (:close c))
             nil)
    :closed? (fn closed? [l] (truthy? (l :closed)))
    :localname (fn localname [l]
                 (when (l :closed) (closed-listener ":localname"))
                 (net/localname (l :sock)))
    :port (fn port [l]
            (when (l :closed) (closed-listener ":port"))
            (get (net/localname (l :sock)) 1))
    :peer-count (fn peer-count [l] (length (l :peers)))})

(defn listen
  ``Listen on UDP `host`:`port` (port 0 = any free port; see (:port l)) for
  DTLS clients, all on this one socket, told apart by their address.
  `opts`: those of dtls/config for the server side (:cert and :key are
  required unless :config is given), plus
    :timeout       the default for dtls/accept and the accepted streams
    :mtu           path MTU of every client's connection
    :max-peers     clients at once (default 1024); beyond it new
                   clients are ignored until some leave
    :idle-timeout  seconds without a datagram after which a client is
                   dropped (default 120; its stream then raises :timeout)
    :backlog       clients waiting for dtls/accept (default 64)
  A client gets a peer entry only once it returns the cookie of a
  HelloVerifyRequest from its own address. Returns a listener with
  :accept, :close, :port, :localname, :peer-count.``
  [host port &opt opts]
  (def what "listen")
  (default opts {})
  (check-opts opts what)
  (def host (n/c-str host "host"))
  (def port (port-arg port what))
  (def lopts {:timeout (ds/check-timeout (get opts :timeout) what)
              :mtu (mtu-arg (get opts :mtu) what)
              :max-peers (count-arg opts :max-peers 1024 what)
              :backlog (count-arg opts :backlog 64 what)
              :idle-timeout (seconds-arg opts :idle-timeout 120 what)})
  (ds/check-timeout (get opts :handshake-timeout) what)
  (def [cfg owned] (config-for opts true what))
  (unless (cfg :has-cert)
    (when owned (:close cfg))
    (n/invalid "%s: a server needs a certificate: give :cert and :key (or :certs, or a :config that has them)"
               what))
  (def l (try
           (dl/open host port cfg lopts)
           ([e fb]
             (when owned (:close cfg))
             (n/fail f/MOJO_TLS_ERR_IO
                     (string "listen on UDP " host ":" port ": " e
                             (if (and (string? e) (string/find "bind" e)) " (is the port in use?)" ""))
                     what))))
  (put l :owned-config (when owned cfg))
  (table/setproto l Listener))

(defn server
  ``Listen on UDP `host`:`port` and call (handler stream) in a new fiber
  for every client whose handshake succeeds (within :handshake-timeout
  seconds, default 30); the stream is closed (close_notify) when the
  handler returns. (on-error err stream) in `opts` receives every error:
  failed handshakes and errors of the handler. Without it, handler errors
  are reported on stderr with their stack trace, except the :timeout of a
  client dropped as idle (UDP has no end of stream: that is how a client
  that went away ends) and the :closed of (:close listener); failed
  handshakes are ignored. Options: those of dtls/listen. Returns the listener; (:close
  listener) stops the server and ends every client's stream.``
  [host port handler &opt opts]
  (default opts {})
  (unless (or (function? handler) (cfunction? handler))
    (n/invalid "server: handler must be a function, got %v" (type handler)))
  (def on-error (get opts :on-error))
  (unless (or (nil? on-error) (function? on-error) (cfunction? on-error))
    (n/invalid "server: :on-error must be a function, got %v" (type on-error)))
  (def hs-timeout (ds/check-timeout (get opts :handshake-timeout 30) "server"))
  (def l (listen host port opts))
  (defn report [e s] (when on-error (protect (on-error e s))))
  (defn serve-one [s]
    (defer (ds/close s)
      (def ok (protect (ds/handshake s (ds/deadline-of hs-timeout) "accept")))
      (if (ok 0)
        (try
          (handler s)
          ([e fb]
            (cond
              on-error (report e s)
              # Ended by (:close listener), or the client went silent (the
              # usual end of a UDP client that went away): nothing to report.
              (and (l :closed) (= :closed (tls/error-name e))) nil
              (and (s :dropped) (= e (s :dropped))) nil
              (debug/stacktrace fb e "dtls/server handler: "))))
        (report (ok 1) s))))
  (ev/go (fn accept-loop []
             (while (not (l :closed))
               (def s (ev/take (l :accept-queue)))
               (when (nil? s) (break))
               (unless (s :closed) (ev/go (fn [] (serve-one s)))))))
  l)

(defn stream?
  "True for a DTLS stream of this package."
  [x]
  (and (table? x) (= (get x :type) :mojo-tls/dtls-stream)))

(def error-code "As tls/error-code." tls/error-code)
(def error-name "As tls/error-name." tls/error-name)
