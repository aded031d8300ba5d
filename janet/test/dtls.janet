# DTLS (mojo_tls/dtls) in one process: our client against our one-socket
# server on 127.0.0.1. Datagram semantics (one write = one datagram, one
# read = one datagram, too large a write refused with the stream going on,
# close_notify -> nil), concurrent peers with checksums while a timer fiber
# ticks, the cookie exchange keeping no state, verification failures, a
# server that never answers, idle peers, and bad arguments.

(use ./harness)
(import mojo_tls/dtls)
(import mojo_tls/cert)
(import mojo_tls/ffi :as f)

(def- fast {:retransmit-min 0.1 :retransmit-max 2})

(defn- dserver-opts [&opt extra] (merge {:cert server-cert :timeout 20} fast (or extra {})))
(defn- dclient-opts [&opt extra] (merge {:ca ca :timeout 20} fast (or extra {})))

(defn- echo-server
  "A DTLS server on 127.0.0.1 echoing every datagram; returns the listener."
  [&opt extra]
  (dtls/server "127.0.0.1" 0 (fn [s] (while (def d (:read s)) (:write s d))) (dserver-opts extra)))

(defn- ticker [period]
  (def state @{:ticks 0 :max-gap 0 :running true})
  (ev/spawn
    (var last (os/clock :monotonic))
    (while (state :running)
      (ev/sleep period)
      (def t (os/clock :monotonic))
      (put state :max-gap (max (state :max-gap) (- t last)))
      (set last t)
      (put state :ticks (+ 1 (state :ticks)))))
  state)

(deftest "echo: one write is one datagram, one read returns exactly one"
  (def l (echo-server))
  (defer (:close l)
    (with [c (dtls/connect "localhost" (:port l) (dclient-opts))]
      (check (= "DTLSv1.2" (:version c)) "version %v" (:version c))
      (check (= "CN=localhost" ((:peer-cert c) :subject)) "peer %v" (:peer-cert c))
      (check (= (:port l) ((:peername c) 1)))
      (def rng (math/rng 7))
      (for i 0 50
        (def msg (math/rng-buffer rng (+ 1 (math/rng-int rng 1200))))
        (:write c msg)
        (def got (:read c))
        (check (= (length msg) (length got)) "datagram %d: sent %d bytes, read %d" i (length msg) (length got))
        (check (= (cert/sha256 msg) (cert/sha256 got)) "datagram %d: checksum" i))
      # Three writes before any read: three reads, never merged.
      (each m ["one" "two!" "three"] (:write c m))
      (each m ["one" "two!" "three"]
        (def got (:read c 100))
        (check (= m (string got)) "expected %q, got %q" m got))
      # Appended to a caller's buffer.
      (def buf @"prefix:")
      (:write c "x")
      (check (= "prefix:x" (string (:read c 10 buf))))
      (check (= "prefix:x" (string buf))))))

(deftest "10 concurrent peers on one socket, checksummed, while a timer ticks" {:timeout 120}
  (def peers 10)
  (def rounds 50)
  (def served (ev/chan peers))
  (def l (dtls/server "127.0.0.1" 0
                      (fn [s]
                        (var n 0)
                        (while (def d (:read s))
                          (++ n)
                          # The echo carries the server's own checksum.
                          (:write s (string (cert/sha256 d) d)))
                        (ev/give served n))
                      (dserver-opts)))
  (defer (:close l)
    (def tick (ticker 0.005))
    (def t0 (os/clock :monotonic))
    (def results (ev/chan peers))
    (for id 0 peers
      (ev/spawn
        (ev/give results
                 (protect
                   (with [c (dtls/connect "127.0.0.1" (:port l) (dclient-opts))]
                     (def rng (math/rng (+ 100 id)))
                     (for r 0 rounds
                       (def msg (string id ":" r ":" (math/rng-buffer rng (math/rng-int rng 1000))))
                       (:write c msg)
                       (def got (string (:read c nil nil 10)))
                       (unless (and (= (string (cert/sha256 msg) msg) got))
                         (errorf "peer %d round %d: bad echo" id r)))
                     id)))))
    (def res (seq [_ :range [0 peers]] (ev/take results)))
    (put tick :running false)
    (def elapsed (- (os/clock :monotonic) t0))
    (check (all |($ 0) res) "client results %q" res)
    (def counts (seq [_ :range [0 peers]] (ev/take served)))
    (check (all |(= rounds $) counts) "the server read %q datagrams per peer" counts)
    (printf "    %d peers x %d round trips in %.2f s; %d ticks, longest gap %.0f ms"
            peers rounds elapsed (tick :ticks) (* 1000 (tick :max-gap)))
    (check (>= (tick :ticks) (* 0.1 (/ elapsed 0.005))) "the timer ticked only %d times" (tick :ticks))
    (check (< (tick :max-gap) 0.5) "the event loop stalled for %.2f s" (tick :max-gap))))

(deftest "a timer keeps ticking through 30 simultaneous handshakes and a silent server" {:timeout 120}
  (def l (echo-server))
  # A server that never answers: a client waiting on it (and retransmitting)
  # must not hold up the loop either.
  (def silent (net/listen "127.0.0.1" 0 :datagram))
  (defer (do (:close l) (:close silent))
    (def tick (ticker 0.002))
    (def done (ev/chan 30))
    (def stuck (ev/spawn (protect (dtls/connect "127.0.0.1" ((net/localname silent) 1)
                                                (dclient-opts {:timeout 0.8})))))
    (for i 0 30
      (ev/spawn (ev/give done (protect (:close (dtls/connect "127.0.0.1" (:port l) (dclient-opts)))))))
    (def res (seq [_ :range [0 30]] (ev/take done)))
    (while (not= :dead (fiber/status stuck)) (ev/sleep 0.02))
    (check (= :timeout (dtls/error-name ((fiber/last-value stuck) 1))) "silent server: %q" (fiber/last-value stuck))
    (put tick :running false)
    (printf "    30 handshakes, one 0.8 s wait on a silent server: %d ticks, longest gap %.0f ms"
            (tick :ticks) (* 1000 (tick :max-gap)))
    (check (all |($ 0) res) "results %q" res)
    (check (> (tick :ticks) 100) "only %d ticks in 0.8 s" (tick :ticks))
    (check (< (tick :max-gap) 0.25) "the event loop stalled for %.2f s" (tick :max-gap))))

(deftest "a read buffer too small: :invalid-argument, the datagram is kept"
  (def l (echo-server))
  (defer (:close l)
    (with [c (dtls/connect "127.0.0.1" (:port l) (dclient-opts))]
      (:write c "0123456789")
      (def e (expect-error :invalid-argument (:read c 4)))
      (check (string/find "10 bytes" (e :message)) "message %v" (e :message))
      (check (= 10 (:pending c)) "pending %v" (:pending c))
      (check (= "0123456789" (string (:read c 10)))))))

(deftest "a write too large for one datagram raises, the stream goes on"
  (def l (echo-server {:mtu 512}))
  (defer (:close l)
    (with [c (dtls/connect "127.0.0.1" (:port l) (dclient-opts {:mtu 512}))]
      (check (= 512 (:mtu c)))
      (def e (expect-error :invalid-argument (:write c (string/repeat "x" 2000))))
      (check (string/find "2000 bytes do not fit" (e :message)) "message %v" (e :message))
      (:write c "still fine")
      (check (= "still fine" (string (:read c)))))
    # Without an MTU: more than one record carries (16 KiB).
    (with [c (dtls/connect "127.0.0.1" (:port l) (dclient-opts))]
      (expect-error :invalid-argument (:write c (string/repeat "y" 20000)))
      (:write c (string/repeat "z" 400))
      (check (= 400 (length (:read c)))))))

(deftest "close_notify: :read returns nil, on both sides"
  (def seen (ev/chan 1))
  (def l (dtls/server "127.0.0.1" 0
                      (fn [s]
                        (def first (:read s))
                        (:write s (string "bye " first))
                        (:close s))
                      (dserver-opts)))
  (defer (:close l)
    (with [c (dtls/connect "127.0.0.1" (:port l) (dclient-opts))]
      (:write c "a")
      (check (= "bye a" (string (:read c))))
      (check (nil? (:read c)) "expected nil after close_notify")
      (check (nil? (:read c)) "nil again")))
  # The client's close reaches the server's read as nil.
  (def l2 (dtls/server "127.0.0.1" 0
                       (fn [s] (ev/give seen [(string (:read s)) (:read s)]))
                       (dserver-opts)))
  (defer (:close l2)
    (def c (dtls/connect "127.0.0.1" (:port l2) (dclient-opts)))
    (:write c "last")
    (:close c)
    (expect-error :closed (:write c "after close"))
    (check (deep= ["last" nil] (ev/take seen)))))

(deftest "the server keeps no state for a ClientHello without a cookie"
  (def l (echo-server))
  (defer (:close l)
    # A real ClientHello, from a memory-mode client, sent from a plain socket.
    (def cfg (dtls/config (dclient-opts)))
    (def conn (f/mojo-tls-conn-new-memory (cfg :handle) "localhost"))
    (f/mojo-tls-conn-handshake conn)
    (def hello (buffer/new-filled 2048))
    (def k (int/to-number (f/mojo-tls-conn-drain-datagram conn hello 2048)))
    (f/mojo-tls-conn-free conn)
    (:close cfg)
    (check (and (> k 13) (= 22 (hello 0)) (= 1 (hello 13))) "not a ClientHello")
    (def u (net/connect "127.0.0.1" (:port l) :datagram))
    (defer (:close u)
      (for i 0 3
        (net/write u (buffer/slice hello 0 k))
        (def answer (net/read u 4096 nil 5))
        # A handshake record (22) carrying a HelloVerifyRequest (3).
        (check (and answer (= 22 (answer 0)) (= 3 (answer 13))) "answer %d: %q" i answer)
        (check (= 0 (:peer-count l)) "peer count %d" (:peer-count l)))
      # Garbage gets no answer at all.
      (net/write u "not DTLS")
      (check (= :none (try (net/read u 100 nil 0.3) ([e] :none))))
      (check (= 0 (:peer-count l))))))

(deftest "verification failures are clear errors"
  (def l (echo-server))
  (defer (:close l)
    (def e (expect-error :verify-failed
                         (dtls/connect "localhost" (:port l) (dclient-opts {:ca (cert/ca "someone else")}))))
    (check (string/find "not correctly signed" (e :message)) "message %v" (e :message))
    (def e2 (expect-error :verify-failed
                          (dtls/connect "127.0.0.1" (:port l) (dclient-opts {:sni "wrong.name"}))))
    (check (string/find "name" (string/ascii-lower (e2 :message))) "message %v" (e2 :message))
    # The server still serves.
    (with [c (dtls/connect "localhost" (:port l) (dclient-opts))]
      (:write c "ok")
      (check (= "ok" (string (:read c)))))))

(deftest "mutual DTLS: the server sees the client's certificate; none is refused"
  (def subjects (ev/chan 2))
  (def errors (ev/chan 2))
  (def l (dtls/server "127.0.0.1" 0
                      (fn [s] (ev/give subjects ((:peer-cert s) :subject)) (:write s "hi"))
                      (dserver-opts {:client-auth :required :ca ca
                                     :on-error (fn [e s] (ev/give errors e))})))
  (defer (:close l)
    (with [c (dtls/connect "localhost" (:port l) (dclient-opts {:cert client-cert}))]
      (check (= "hi" (string (:read c))))
      (check (= "CN=test client" (ev/take subjects))))
    (expect-error [:handshake :verify-failed :timeout]
                  (dtls/connect "localhost" (:port l) (dclient-opts {:timeout 3})))
    (check (= :handshake (dtls/error-name (ev/take errors))))))

(deftest "a server that never answers: :timeout within the bound, with retransmissions"
  (def silent (net/listen "127.0.0.1" 0 :datagram))
  (def port ((net/localname silent) 1))
  (def got @{:n 0})
  (def reader (ev/spawn
                (def buf @"")
                (while true
                  (buffer/clear buf)
                  (net/recv-from silent 65536 buf)
                  (put got :n (+ 1 (got :n))))))
  (defer (do (:close silent) (protect (ev/cancel reader "done")))
    (def t0 (os/clock :monotonic))
    (def e (expect-error :timeout (dtls/connect "127.0.0.1" port (dclient-opts {:timeout 1}))))
    (def elapsed (- (os/clock :monotonic) t0))
    (check (< 0.9 elapsed 2) "gave up after %.2f s" elapsed)
    (check (>= (got :n) 3) "only %d ClientHellos (retransmissions every 0.1 s, doubling)" (got :n))
    (check (= "connect" (e :context)))
    # Without :timeout the retransmission limit ends it (0.1 + 0.2 + 0.4 s).
    (def t1 (os/clock :monotonic))
    (expect-error :timeout (dtls/connect "127.0.0.1" port {:ca ca :retransmit-min 0.1 :retransmit-max 0.4}))
    (check (< (- (os/clock :monotonic) t1) 3) "took %.2f s" (- (os/clock :monotonic) t1))))

(deftest "nothing listening: a :connect error, at once"
  (def u (net/listen "127.0.0.1" 0 :datagram))
  (def port ((net/localname u) 1))
  (:close u)
  (def t0 (os/clock :monotonic))
  (def e (expect-error [:connect :timeout] (dtls/connect "127.0.0.1" port (dclient-opts {:timeout 5}))))
  (check (= :connect (e :name)) "got %v: %s" (e :name) (e :message))
  (check (< (- (os/clock :monotonic) t0) 2)))

(deftest "idle peers are dropped; the peer table is bounded"
  (def errors (ev/chan 4))
  (def l (dtls/server "127.0.0.1" 0
                      (fn [s] (:write s "hello") (:read s))
                      (dserver-opts {:idle-timeout 0.3 :max-peers 2
                                     :on-error (fn [e s] (ev/give errors e))})))
  (defer (:close l)
    (def a (dtls/connect "127.0.0.1" (:port l) (dclient-opts)))
    (def b (dtls/connect "127.0.0.1" (:port l) (dclient-opts)))
    (check (= "hello" (string (:read a))))
    (check (= 2 (:peer-count l)))
    # A third client is ignored while the table is full.
    (expect-error :timeout (dtls/connect "127.0.0.1" (:port l) (dclient-opts {:timeout 0.25})))
    # Silent for 0.3 s: both are dropped, their handlers' reads raise.
    (def e (ev/take errors))
    (check (= :timeout (dtls/error-name e)) "error %q" e)
    (check (string/find "silent" (e :message)))
    (ev/take errors)
    (check (= 0 (:peer-count l)) "peer count %d" (:peer-count l))
    (:close a) (:close b)
    # Room again.
    (with [c (dtls/connect "127.0.0.1" (:port l) (dclient-opts))]
      (check (= "hello" (string (:read c)))))))

(deftest "dtls/listen + dtls/accept; closing the listener ends its streams"
  (def l (dtls/listen "127.0.0.1" 0 (dserver-opts)))
  (def client (ev/spawn (with [c (dtls/connect "127.0.0.1" (:port l) (dclient-opts))]
                          (:write c "via accept")
                          (:read c))))
  (def s (dtls/accept l {:timeout 10}))
  (check (= "via accept" (string (:read s))))
  (check (:server? s))
  (check (= 1 (:peer-count l)))
  (expect-error :timeout (:accept l {:timeout 0.1}))
  (def waiting (ev/spawn (protect (:read s))))
  (ev/sleep 0.05)
  (:close l)
  (ev/sleep 0.05)
  (def [ok err] (fiber/last-value waiting))
  (check (and (not ok) (= :closed (dtls/error-name err))) "read after close: %q" [ok err])
  (expect-error :closed (:write s "x"))
  (expect-error :closed (dtls/accept l))
  (:close s)
  (:close l)
  (protect (ev/cancel client "done")))

(deftest "streams dropped without :close are freed; their peers leave when idle" {:timeout 60}
  (def reclaim ((require "mojo_tls/reclaim") 'sweep))
  (def live ((require "mojo_tls/reclaim") 'live-count))
  (def l (echo-server {:idle-timeout 0.3}))
  (defer (:close l)
    (defn batch []
      (def cfg (dtls/config (dclient-opts)))
      (for i 0 50
        (def c (dtls/connect "127.0.0.1" (:port l) {:config cfg :timeout 10}))
        (:write c "x")
        (:read c))
      (:close cfg))
    (batch)
    (ev/sleep 0.6)
    (gccollect)
    ((reclaim :value))
    (def base ((live :value)))
    (batch)
    (check (= 50 (:peer-count l)) "peer count %d" (:peer-count l))
    (ev/sleep 0.6)
    (gccollect)
    ((reclaim :value))
    (check (= 0 (:peer-count l)) "peer count %d after the idle timeout" (:peer-count l))
    (def now ((live :value)))
    (printf "    100 dropped clients: %d native handles live (%d after the first 50)" now base)
    (check (< now (+ base 10)) "%d native handles live, %d before" now base)))

(deftest "bad arguments raise :invalid-argument and crash nothing"
  (expect-error :invalid-argument (dtls/connect "127.0.0.1" 70000))
  (expect-error :invalid-argument (dtls/connect "127.0.0.1" "nope"))
  (expect-error :invalid-argument (dtls/connect 42 4433))
  (expect-error :invalid-argument (dtls/connect "127.0.0.1" 4433 {:bogus 1}))
  (expect-error :invalid-argument (dtls/connect "127.0.0.1" 4433 {:session "x"}))
  (expect-error :invalid-argument (dtls/connect "127.0.0.1" 4433 {:mtu 10}))
  (expect-error :invalid-argument (dtls/connect "127.0.0.1" 4433 {:timeout -1}))
  (expect-error :invalid-argument (dtls/connect "127.0.0.1" 4433 "opts"))
  (expect-error :invalid-argument (dtls/connect "a\0b" 4433))
  (expect-error :invalid-argument (dtls/config {:retransmit-min 2 :retransmit-max 1}))
  (expect-error :invalid-argument (dtls/config {:retransmit-min 0}))
  (def tls (require "mojo_tls/tls"))
  (def tls-config ((tls 'config) :value))
  (with [c (tls-config {})]
    (expect-error :invalid-argument (dtls/connect "127.0.0.1" 4433 {:config c})))
  (with [c (dtls/config {:server true :cert server-cert})]
    (expect-error :invalid-argument (dtls/connect "127.0.0.1" 4433 {:config c})))
  (expect-error :invalid-argument (dtls/listen "127.0.0.1" 0 {}))
  (expect-error :invalid-argument (dtls/listen "127.0.0.1" 0 (dserver-opts {:max-peers 0})))
  (expect-error :invalid-argument (dtls/listen "127.0.0.1" 0 (dserver-opts {:idle-timeout "x"})))
  (expect-error :invalid-argument (dtls/server "127.0.0.1" 0 "not a function" (dserver-opts)))
  (expect-error :invalid-argument (dtls/accept {}))
  # A port in use is an error, not a second socket sharing it.
  (with [l (dtls/listen "127.0.0.1" 0 (dserver-opts))]
    (def e (expect-error :io (dtls/listen "127.0.0.1" (:port l) (dserver-opts))))
    (check (string/find "port in use" (e :message)) "message %v" (e :message)))
  (def l (echo-server))
  (defer (:close l)
    (with [c (dtls/connect "127.0.0.1" (:port l) (dclient-opts))]
      (expect-error :invalid-argument (:read c 0))
      (expect-error :invalid-argument (:read c -5))
      (expect-error :invalid-argument (:read c 10 "not a buffer"))
      (expect-error :invalid-argument (:read c 10 nil -1))
      (expect-error :invalid-argument (:write c 42))
      (expect-error :invalid-argument (:write c ""))
      (expect-error :timeout (:read c nil nil 0.1))
      # Still usable after all that.
      (:write c "fine")
      (check (= "fine" (string (:read c)))))))

(run-tests)
