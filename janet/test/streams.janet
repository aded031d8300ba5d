# TLS streams between Janet clients and servers: the stream methods, info,
# close semantics, timeouts, full duplex, mutual TLS, ALPN, SNI, resumption.

(use ./harness)
(import mojo_tls/tls)
(import mojo_tls/cert)
(import mojo_tls/ffi :as f)

(defn- n-int [x] (if (number? x) x (int/to-number x)))

(deftest "library version"
  (def v (tls/version))
  (check (string? (v :version)))
  (check (string/find "Mbed TLS" (v :backend)) "backend %v" (v :backend))
  (check (= 1 (v :abi))))

(deftest "connect, accept, echo, info"
  (def l (tls/listen "127.0.0.1" 0 (server-opts {:alpn ["h2" "http/1.1"]})))
  (defer (:close l)
    (def port (:port l))
    (check (pos? port))
    (def server-done (ev/chan 1))
    (ev/spawn
      (def s (tls/accept l))
      (defer (:close s)
        (ev/give server-done {:alpn (:alpn s) :sni (:server-name s) :server? (:server? s)
                              :peer (:peer-cert s)})
        (while (def d (:read s 1000)) (:write s d))))
    (with [c (tls/connect "localhost" port (client-opts {:alpn ["http/1.1"]}))]
      (def info (ev/take server-done))
      (check (= "http/1.1" (info :alpn)) "server alpn %v" (info :alpn))
      (check (= "localhost" (info :sni)) "server sni %v" (info :sni))
      (check (info :server?))
      (check (nil? (info :peer)) "no client certificate")
      (check (= "http/1.1" (:alpn c)))
      (check (= default-version (:version c)) "version %v" (:version c))
      (check (= default-version-number (:version-number c)) "version number %v" (:version-number c))
      (check (string/has-prefix? "TLS_" (:cipher c)))
      (check (not (:server? c)))
      (def pc (:peer-cert c))
      (check (= "CN=localhost" (pc :subject)) "subject %v" (pc :subject))
      (check (string/find "mojo-tls janet test CA" (pc :issuer)))
      (check (deep= @["DNS:localhost" "IP:127.0.0.1"] (pc :sans)) "sans %q" (pc :sans))
      (check (= (pc :der) (server-cert :cert-der)))
      (check (= (pc :sha256) (server-cert :sha256)))
      (check (= 32 (length (pc :spki-sha256))))
      (check (< (pc :not-before) (os/time) (pc :not-after)))
      (check (= 0 (:verify-flags c)))
      (check (= "" (:verify-reason c)))
      (check (= "127.0.0.1" ((:peername c) 0)))
      (:write c "hello")
      (check (= "hello" (string (:chunk c 5))))
      (def buf @"prefix:")
      (:write c "world")
      (check (= buf (:chunk c 5 buf)))
      (check (= "prefix:world" (string buf))))))

(deftest "read :all until EOF, chunk at EOF, read after EOF"
  (def l (tls/server "127.0.0.1" 0
                     (fn [s]
                       (:write s (string/repeat "abc" 10000))
                       (:close s))
                     (server-opts)))
  (defer (:close l)
    (with [c (tls/connect "127.0.0.1" (:port l) (client-opts))]
      (def all (:read c :all))
      (check (= 30000 (length all)) "got %d bytes" (length all))
      (check (= (string/repeat "abc" 10000) (string all)))
      (check (nil? (:read c 10)) "read after EOF")
      (check (nil? (:chunk c 10)) "chunk after EOF")
      (check (nil? (:read c :all)) "read :all after EOF"))))

(deftest "chunk returns the partial data at EOF"
  (def l (tls/server "127.0.0.1" 0 (fn [s] (:write s "12345")) (server-opts)))
  (defer (:close l)
    (with [c (tls/connect "127.0.0.1" (:port l) (client-opts))]
      (check (= "12345" (string (:chunk c 100)))))))

(deftest "large transfers are checksummed both ways"
  (def l (echo-server))
  (defer (:close l)
    (with [c (tls/connect "127.0.0.1" (:port l) (client-opts))]
      (def data (pattern (* 3 1024 1024) 7))
      (def got @"")
      (def reader (ev/spawn
                    (while (< (length got) (length data))
                      (unless (:read c 100000 got) (break)))))
      (:write c data)
      (ev/sleep 0)
      (while (< (length got) (length data)) (ev/sleep 0.01))
      (check (= (cert/sha256 data) (cert/sha256 got)) "checksum mismatch (%d bytes)" (length got)))))

(deftest "full duplex: one fiber reads while another writes"
  (def l (echo-server))
  (defer (:close l)
    (with [c (tls/connect "127.0.0.1" (:port l) (client-opts))]
      (def n 200)
      (def done (ev/chan 2))
      (ev/spawn
        (for i 0 n (:write c (string/format "%05d|" i)))
        (ev/give done :written))
      (ev/spawn
        (def buf @"")
        (while (< (length buf) (* 6 n)) (:read c 4096 buf))
        (ev/give done buf))
      (def results [(ev/take done) (ev/take done)])
      (def buf (find buffer? results))
      (def expect (string/join (seq [i :range [0 n]] (string/format "%05d|" i))))
      (check (= expect (string buf))))))

(deftest "read timeout raises :timeout and the stream stays usable"
  (def go (ev/chan 1))
  (def l (tls/server "127.0.0.1" 0
                     (fn [s]
                       (ev/take go)
                       (:write s "late")
                       (:read s 10))
                     (server-opts)))
  (defer (:close l)
    (with [c (tls/connect "127.0.0.1" (:port l) (client-opts))]
      (def t0 (os/clock :monotonic))
      (def e (expect-error :timeout (:read c 10 nil 0.2)))
      (def dt (- (os/clock :monotonic) t0))
      (check (and (>= dt 0.15) (< dt 5)) "waited %.2f s" dt)
      (check (= ":read" (e :context)))
      (ev/give go true)
      (check (= "late" (string (:read c 10 nil 5)))))))

(deftest "a second reader waiting behind the first one times out on its own"
  (def l (tls/server "127.0.0.1" 0 (fn [s] (ev/sleep 3)) (server-opts)))
  (defer (:close l)
    (with [c (tls/connect "127.0.0.1" (:port l) (client-opts {:timeout nil}))]
      (def first-result (ev/chan 1))
      (ev/spawn (ev/give first-result (protect (:read c 10 nil 2))))
      (ev/sleep 0.05)
      (def t0 (os/clock :monotonic))
      (expect-error :timeout (:read c 10 nil 0.2))
      (def dt (- (os/clock :monotonic) t0))
      (check (< dt 1.5) "the second reader waited %.2f s" dt)
      (def [ok e] (ev/take first-result))
      (check (= :timeout (tls/error-name e)) "first reader: %q" e))))

(deftest "stream default timeout applies to reads"
  (def l (tls/server "127.0.0.1" 0 (fn [s] (ev/sleep 3)) (server-opts)))
  (defer (:close l)
    (with [c (tls/connect "127.0.0.1" (:port l) (client-opts {:timeout 0.3}))]
      (expect-error :timeout (:read c 10)))))

(deftest "use after close raises :closed; close is idempotent"
  (def l (echo-server))
  (defer (:close l)
    (def c (tls/connect "127.0.0.1" (:port l) (client-opts)))
    (check (not (:closed? c)))
    (:close c)
    (:close c)
    (check (:closed? c))
    (expect-error :closed (:read c 10))
    (expect-error :closed (:write c "x"))
    (expect-error :closed (:chunk c 10))
    (expect-error :closed (:version c))
    (expect-error :closed (:peer-cert c))
    (expect-error :closed (:handshake c))
    (expect-error :closed (:shutdown c))))

(deftest ":close frees the native connection and owned configurations"
  (def server-handles (ev/chan 1))
  (def l (tls/listen "127.0.0.1" 0 (server-opts)))
  (def listener-cfg ((l :config) :handle))
  (ev/spawn
    (def s (tls/accept l))
    (def h (s :conn))
    (:read s 10)
    (:close s)
    (ev/give server-handles h))
  (def c (tls/connect "localhost" (:port l) (client-opts)))
  (def conn (c :conn))
  (def cfg ((c :owned-config) :handle))
  (check (>= (f/mojo-tls-conn-pending conn) 0) "live connection handle")
  (:close c)
  (check (= f/MOJO_TLS_ERR_INVALID_HANDLE (n-int (f/mojo-tls-conn-pending conn))) "connection not freed")
  (check (= f/MOJO_TLS_ERR_INVALID_HANDLE (f/mojo-tls-config-free cfg)) "client config not freed")
  (def sh (ev/take server-handles))
  (check (= f/MOJO_TLS_ERR_INVALID_HANDLE (n-int (f/mojo-tls-conn-pending sh))) "server connection not freed")
  (check (>= (f/mojo-tls-config-set-session-cache listener-cfg 0 0) 0) "listener config alive")
  (:close l)
  (check (= f/MOJO_TLS_ERR_INVALID_HANDLE (f/mojo-tls-config-free listener-cfg)) "listener config not freed"))

(deftest "close from another fiber wakes a blocked reader"
  (def l (tls/server "127.0.0.1" 0 (fn [s] (ev/sleep 5)) (server-opts)))
  (defer (:close l)
    (def c (tls/connect "127.0.0.1" (:port l) (client-opts)))
    (def result (ev/chan 1))
    (ev/spawn (ev/give result (protect (:read c 10 nil 10))))
    (ev/sleep 0.1)
    (def t0 (os/clock :monotonic))
    (:close c)
    (def [ok e] (ev/take result))
    (check (< (- (os/clock :monotonic) t0) 2) "reader woke late")
    (check (not ok) "read should fail")
    (check (= :closed (tls/error-name e)) "got %q" e)))

(deftest "peer's close_notify is EOF; :shutdown sends it"
  (def got (ev/chan 1))
  (def l (tls/server "127.0.0.1" 0
                     (fn [s]
                       (def d (:read s :all))
                       (ev/give got d))
                     (server-opts)))
  (defer (:close l)
    (with [c (tls/connect "127.0.0.1" (:port l) (client-opts))]
      (:write c "part1 ")
      (:write c "part2")
      (:shutdown c)
      (expect-error :closed (:write c "more"))
      (check (= "part1 part2" (string (ev/take got)))))))

(deftest "TCP close without close_notify is :truncated"
  (def l (net/server "127.0.0.1" 0))
  (defer (:close l)
    (def port ((net/localname l) 1))
    (def plain (ev/chan 1))
    (ev/spawn
      (def tr (net/accept l))
      (def s (tls/upgrade tr nil (server-opts {:server true})))
      (:write s "data")
      (ev/sleep 0.1)
      # Drop the TCP connection under TLS: no close_notify.
      (:close (:transport s))
      (ev/give plain true))
    (with [c (tls/connect "127.0.0.1" port (client-opts))]
      (check (= "data" (string (:read c 10))))
      (ev/take plain)
      (expect-error :truncated (:read c 10)))))

(deftest "writing to a peer that has gone away raises :io (no SIGPIPE)"
  # The client closes its TCP socket without close_notify; the server keeps
  # writing. The writes must fail with an error in the server's fiber: a
  # SIGPIPE (write(2) on a socket without MSG_NOSIGNAL) would kill the
  # whole test process (exit status 141).
  (def errors (ev/chan 1))
  (def ready (ev/chan 1))
  (def gone (ev/chan 1))
  (def l (tls/server "127.0.0.1" 0
                     (fn [s]
                       (check (= "go" (string (:read s 10))))
                       (ev/give ready true)
                       (ev/take gone)
                       (for i 0 500
                         (:write s (string/repeat "x" 4096))
                         (ev/sleep 0.002))
                       (error "every write succeeded"))
                     (server-opts {:on-error (fn [e s] (ev/give errors e))})))
  (defer (:close l)
    (def c (tls/connect "localhost" (:port l) (client-opts)))
    (:write c "go")
    (ev/take ready)
    (:close (:transport c))
    (ev/give gone true)
    (def e (ev/take errors))
    (check (= :io (tls/error-name e)) "server error %q" e)
    (protect (:close c))))

(deftest "tls/server handler: many sequential connections, handshake failures reported"
  (def errors @[])
  (def l (tls/server "127.0.0.1" 0
                     (fn [s] (:write s (string "hi " (:server-name s))))
                     (server-opts {:on-error (fn [e s] (array/push errors e))})))
  (defer (:close l)
    (for i 0 5
      (with [c (tls/connect "localhost" (:port l) (client-opts))]
        (check (= "hi localhost" (string (:read c 100))))))
    # A client that does not trust the server: both sides fail.
    (expect-error :verify-failed (tls/connect "localhost" (:port l) {:timeout 10 :ca (cert/ca "other")}))
    (var waited 0)
    (while (and (empty? errors) (< waited 100)) (ev/sleep 0.02) (++ waited))
    (check (= 1 (length errors)) "server errors: %q" errors)
    (check (tls/error-code (errors 0)))))

(deftest "mutual TLS: client certificate required"
  (def seen (ev/chan 4))
  (def l (tls/server "127.0.0.1" 0
                     (fn [s] (ev/give seen ((:peer-cert s) :subject)) (:write s "ok"))
                     (server-opts {:client-auth :required :ca ca})))
  (defer (:close l)
    (with [c (tls/connect "localhost" (:port l) (client-opts {:cert client-cert}))]
      (check (= "ok" (string (:read c 10))))
      (check (= "CN=test client" (ev/take seen))))
    # Without a certificate the handshake fails (on the client: alert, or EOF).
    (def e (expect-error [:handshake :verify-failed :closed :truncated :protocol :io]
                         (with [c (tls/connect "localhost" (:port l) (client-opts))]
                           (:read c 10))))
    (check (tls/error-code e))))

(deftest "SNI selects the server certificate"
  (def other (cert/leaf ca "other.test" {:sans ["other.test"]}))
  (def l (tls/server "127.0.0.1" 0 (fn [s] (:write s (or (:server-name s) "-")))
                     (server-opts {:certs [other]})))
  (defer (:close l)
    (each name ["localhost" "other.test"]
      (with [c (tls/connect "127.0.0.1" (:port l) (client-opts {:sni name}))]
        (check (= (string "CN=" name) ((:peer-cert c) :subject)))
        (check (= name (string (:read c 100))))))))

(deftest "session resumption with tickets"
  (def l (tls/server "127.0.0.1" 0 (fn [s] (:write s (if (:resumed? s) "resumed" "full")))
                     (server-opts {:session-tickets true})))
  (defer (:close l)
    (def c1 (tls/connect "localhost" (:port l) (client-opts)))
    # On TLS 1.3 the NewSessionTicket comes after the handshake: this read
    # receives it (before "full") and only then is there a session to export.
    (check (= "full" (string (:read c1 100))))
    (def blob (:session c1))
    (check (and blob (pos? (length blob))))
    (check (not (:resumed? c1)))
    (:close c1)
    (with [c2 (tls/connect "localhost" (:port l) (client-opts {:session blob}))]
      (check (:resumed? c2) "second connection not resumed")
      (check (= default-version (:version c2)) "version %v" (:version c2))
      (check (= "resumed" (string (:read c2 100)))))))

(deftest ":resumption-without-forward-secrecy: psk_ke between opted-in ends, a clear failure otherwise"
  (defn serve [opts]
    (tls/server "127.0.0.1" 0 (fn [s] (:write s (if (:resumed? s) "resumed" "full")))
                (server-opts (merge {:session-tickets true} opts))))
  (defn ticket [l opts]
    (def c1 (tls/connect "localhost" (:port l) (client-opts opts)))
    (check (= "full" (string (:read c1 100))))
    (def blob (:session c1))
    (:close c1)
    blob)
  (def psk-ke {:resumption-without-forward-secrecy true})
  (def [opted plain] [(serve psk-ke) (serve {})])
  (defer (each l [opted plain] (:close l))
    # An opted-in server resumes default clients (psk_dhe_ke) and opted-in
    # ones (psk_ke, no key share).
    (each opts [{} psk-ke]
      (def blob (ticket opted opts))
      (with [c2 (tls/connect "localhost" (:port opted) (client-opts (merge opts {:session blob})))]
        (check (= "resumed" (string (:read c2 100))) "client opts %v" opts)
        (check (:resumed? c2))))
    # An opted-in client cannot fall back to a full handshake (it sent no
    # key share): a server that does not allow psk_ke fails it, saying why.
    (def blob (ticket plain psk-ke))
    (def [ok err] (protect (tls/connect "localhost" (:port plain) (client-opts (merge psk-ke {:session blob})))))
    (check (not ok) "resumed against a default server")
    (check (= :handshake (err :name)) "error %v" (err :name))
    (check (string/find "psk_ke" (err :message)) "error %s" (err :message))))

(deftest "servers sharing :ticket-keys resume each other's tickets"
  (defn serve [keys]
    (tls/server "127.0.0.1" 0 (fn [s] (:write s (if (:resumed? s) "resumed" "full")))
                (server-opts {:ticket-keys keys})))
  (def [a b other] [(serve (string/repeat "k" 32)) (serve (string/repeat "k" 32))
                    (serve (string/repeat "x" 32))])
  (defer (each l [a b other] (:close l))
    (def c1 (tls/connect "localhost" (:port a) (client-opts)))
    (check (= "full" (string (:read c1 100))))
    (def blob (:session c1))
    (:close c1)
    (with [c (tls/connect "localhost" (:port b) (client-opts {:session blob}))]
      (check (:resumed? c) "A's ticket not resumed on B")
      (check (= "resumed" (string (:read c 100)))))
    (with [c (tls/connect "localhost" (:port other) (client-opts {:session blob}))]
      (check (not (:resumed? c)) "resumed with other keys")
      (check (= "full" (string (:read c 100))))))
  (expect-error :invalid-argument (tls/config (server-opts {:server true :ticket-keys "short"}))))

(deftest "session resumption with the server's session cache (TLS 1.2)"
  # Session IDs and the server cache are TLS 1.2 (TLS 1.3 resumes with
  # tickets only), so the client is pinned to TLS 1.2 on every backend.
  (def l (tls/server "127.0.0.1" 0 (fn [s] (:write s (if (:resumed? s) "resumed" "full")))
                     (server-opts {:session-cache 16})))
  (defer (:close l)
    (def opts (client-opts {:max-version :tls1.2}))
    (def c1 (tls/connect "localhost" (:port l) opts))
    (check (= "TLSv1.2" (:version c1)) "version %v" (:version c1))
    (check (= "full" (string (:read c1 100))))
    (def blob (:session c1))
    (check (and blob (pos? (length blob))))
    (:close c1)
    (with [c2 (tls/connect "localhost" (:port l) (merge opts {:session blob}))]
      (check (:resumed? c2) "second connection not resumed from the cache")
      (check (= "resumed" (string (:read c2 100)))))
    # Without the server's cache the same blob gives a full handshake.
    (def l2 (tls/server "127.0.0.1" 0 (fn [s] (:write s (if (:resumed? s) "resumed" "full")))
                        (server-opts)))
    (defer (:close l2)
      (with [c3 (tls/connect "localhost" (:port l2) (merge opts {:session blob}))]
        (check (not (:resumed? c3)) "resumed without a cache")
        (check (= "full" (string (:read c3 100))))))))

(deftest "a shared client configuration"
  (def cfg (tls/config (client-opts)))
  (def l (echo-server))
  (defer (do (:close l) (:close cfg))
    (for i 0 3
      (with [c (tls/connect "localhost" (:port l) {:config cfg :timeout 10})]
        (:write c "x")
        (check (= "x" (string (:read c 10))))))
    (:close cfg)
    (expect-error :closed (tls/connect "localhost" (:port l) {:config cfg}))))

(deftest "pins: certificate and SPKI pins, pin-only for self-signed"
  (def self (cert/self-signed "selfie" {:sans ["127.0.0.1"]}))
  (def l (tls/server "127.0.0.1" 0 (fn [s] (:write s "pinned")) {:cert self :timeout 10}))
  (defer (:close l)
    (def port (:port l))
    # The real fingerprint as raw bytes, and as hex.
    (with [c (tls/connect "127.0.0.1" port {:pins [(self :sha256)] :pin-only true :timeout 10})]
      (check (= "pinned" (string (:read c 10)))))
    (with [c (tls/connect "127.0.0.1" port {:pins [(cert/hex (self :sha256))] :pin-only true :timeout 10})]
      (def spki ((:peer-cert c) :spki-sha256))
      (with [c2 (tls/connect "127.0.0.1" port {:pins [[:spki spki]] :pin-only true :timeout 10})]
        (check (= "pinned" (string (:read c2 10))))))
    (def e (expect-error :verify-failed
                         (tls/connect "127.0.0.1" port {:pins [(string/repeat "\0" 32)] :pin-only true :timeout 10})))
    (check (string/find "pin" (e :message)) "message %v" (e :message))
    # Without pins a self-signed server does not verify.
    (expect-error :verify-failed (tls/connect "127.0.0.1" port {:timeout 10}))))

(deftest "verify false and :optional connect to an untrusted server"
  (def self (cert/self-signed "untrusted"))
  (def l (tls/server "127.0.0.1" 0 (fn [s] (:write s "ok")) {:cert self :timeout 10}))
  (defer (:close l)
    (with [c (tls/connect "localhost" (:port l) {:verify false :timeout 10})]
      (check (= "ok" (string (:read c 10)))))
    (with [c (tls/connect "localhost" (:port l) {:verify :optional :timeout 10})]
      (check (pos? (:verify-flags c)))
      (check (not (empty? (:verify-reason c))))
      (check (= "ok" (string (:read c 10)))))))

(defn- keylog-lines
  "Connect with :keylog (and `extra` options), echo once; [version lines],
  each line parsed as [label client-random secret] (hex strings)."
  [port file extra]
  (def path (string (temp-dir) "/" file))
  (def version
    (with [c (tls/connect "localhost" port (client-opts (merge {:keylog path} extra)))]
      (:write c "x")
      (check (= "x" (string (:read c 10))))
      (:version c)))
  (def text (slurp path))
  (def lines (seq [line :in (string/split "\n" text) :unless (empty? line)]
               (def m (peg/match ~(* (<- (some (+ :w "_"))) " " (<- (some :h)) " " (<- (some :h)) -1) line))
               (check m "bad key-log line %q" line)
               (tuple ;m)))
  [version lines])

(deftest "keylog writes NSS key-log lines"
  (def l (echo-server))
  (defer (:close l)
    # TLS 1.2 (pinned): one CLIENT_RANDOM line, the 48-byte master secret.
    (def [v12 lines12] (keylog-lines (:port l) "tls12.log" {:max-version :tls1.2}))
    (check (= "TLSv1.2" v12) "version %v" v12)
    (check (= 1 (length lines12)) "TLS 1.2 key log %q" lines12)
    (def [label12 random secret] (lines12 0))
    (check (= "CLIENT_RANDOM" label12) "label %v" label12)
    (check (= 64 (length random)) "client random %v" random)
    (check (= 96 (length secret)) "master secret %v" secret)
    # The default version, TLS 1.3: the four traffic secrets of RFC 8446
    # (no CLIENT_RANDOM), all under the same client random.
    (def [v lines] (keylog-lines (:port l) "default.log" {}))
    (check (= default-version v) "version %v" v)
    (check (deep= @["CLIENT_HANDSHAKE_TRAFFIC_SECRET" "CLIENT_TRAFFIC_SECRET_0"
                    "SERVER_HANDSHAKE_TRAFFIC_SECRET" "SERVER_TRAFFIC_SECRET_0"]
                  (sorted (map first lines)))
           "TLS 1.3 key log %q" lines)
    (def randoms (distinct (map |($ 1) lines)))
    (check (and (= 1 (length randoms)) (= 64 (length (randoms 0)))) "client randoms %q" randoms)
    (check (not= random (randoms 0)) "a new client random")
    (each [_ _ s] lines
      (check (index-of (length s) [64 96]) "traffic secret %v (SHA-256 or SHA-384)" s))))

(deftest "handshake on first use with :handshake false"
  (def l (echo-server))
  (defer (:close l)
    (def tr (net/connect "127.0.0.1" (:port l)))
    (with [c (tls/upgrade tr "localhost" (client-opts {:handshake false}))]
      (check (nil? (:version c)) "no version before the handshake")
      (:write c "lazy")
      (check (= "lazy" (string (:read c 10))))
      (check (= default-version (:version c)) "version %v" (:version c)))))

(deftest "record layer: fast by default, the switch, KeyUpdate on TLS 1.3"
  (def l (echo-server))
  (defer (:close l)
    (with [c (tls/connect "localhost" (:port l) (client-opts))]
      (check (= "mojo-tls (ring)" (:record-layer c)) "record layer %v" (:record-layer c))
      (if (= "TLSv1.3" (:version c))
        (do
          (:key-update c true)
          (:write c "after the update")
          (check (= "after the update" (string (:chunk c 16))))
          (:key-update c)
          (:write c "again")
          (check (= "again" (string (:chunk c 5)))))
        (expect-error :not-available (:key-update c)))))
  (def l2 (echo-server {:fast-record-layer false}))
  (defer (:close l2)
    (with [c (tls/connect "localhost" (:port l2) (client-opts {:fast-record-layer false}))]
      (check (= "Mbed TLS" (:record-layer c)) "record layer %v" (:record-layer c))
      (expect-error :not-available (:key-update c))
      (:write c "mbed")
      (check (= "mbed" (string (:chunk c 4)))))))

(run-tests)
