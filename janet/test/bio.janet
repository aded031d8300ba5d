# mojo_tls/bio: memory streams. Two of them talking in one fiber
# (handshake, echo with checksums both ways, close_notify, resumption), one
# over a plain `net` stream against `openssl s_server -rev` on 127.0.0.1
# (the test moves the bytes), errors (verification failure with the alert
# to send, garbage, truncation, use after close, bad arguments). Every loop
# is bounded.

(use ./harness)
(import mojo_tls/bio)
(import mojo_tls/tls)
(import mojo_tls/crypto)
(import mojo_tls/cert)

(defn- pump
  "Move every queued byte from `a` to `b` and back; the number moved."
  [a b]
  (var moved 0)
  (def ab (:drain a))
  (unless (empty? ab) (:feed b ab) (+= moved (length ab)))
  (def ba (:drain b))
  (unless (empty? ba) (:feed a ba) (+= moved (length ba)))
  moved)

(defn- handshake-pair
  "Handshake client `c` with server `s` in memory (at most 20 rounds)."
  [c s]
  (var rounds 0)
  (var rc (:handshake c))
  (var rs (:handshake s))
  (while (not (and (= rc true) (= rs true)))
    (check (< (++ rounds) 20) "handshake did not finish in 20 rounds: %v %v" rc rs)
    (pump c s)
    (set rc (:handshake c))
    (set rs (:handshake s)))
  (pump c s)
  rounds)

(defn- read-n
  "Read exactly `n` bytes from `dst` (into `out`), pumping between `src` and `dst` (bounded)."
  [src dst n &opt out]
  (default out @"")
  (def start (length out))
  (var idle 0)
  (while (< (- (length out) start) n)
    (def r (:read dst (- n (- (length out) start)) out))
    (when (= r :want-read)
      (check (< (++ idle) 1000) "no progress after 1000 pumps")
      (pump src dst))
    (check (not (nil? r)) "unexpected EOF"))
  out)

(defn- new-pair [&opt copts sopts]
  [(bio/new (client-opts copts) "localhost") (bio/new (server-opts (merge {:server true} (or sopts {}))))])

(deftest "two memory streams: handshake, information, echo with checksums, close_notify"
  (def [c s] (new-pair {:alpn ["h2" "x-echo"]} {:alpn ["x-echo"]}))
  (defer (do (:close c) (:close s))
    (check (= :want-read (:read c 10)) "read before the handshake wants input")
    (handshake-pair c s)
    (check (= (:version c) (:version s)))
    (check (= (:version c) default-version) "version %v" (:version c))
    (check (:cipher c))
    (check (= "x-echo" (:alpn c) (:alpn s)))
    (check (= "localhost" (:server-name s)))
    (check (string/find "localhost" ((:peer-cert c) :subject)))
    (check (nil? (:peer-cert s)))
    (check (and (:server? s) (not (:server? c))))
    (check (zero? (:pending-output c)))
    # 2 MiB each way in random pieces, echoed by the server, SHA-256 checked.
    (def data (crypto/random-bytes (* 2 1024 1024)))
    (var off 0)
    (def echoed @"")
    (while (< off (length data))
      (def k (min (- (length data) off) (+ 1 (math/floor (* 70000 (math/random))))))
      (check (= k (:write c (string/slice data off (+ off k)))))
      (+= off k)
      (pump c s)
      (def got (read-n c s k))
      (check (= k (:write s got)))
      (pump c s)
      (read-n s c k echoed))
    (check (= (crypto/sha256 data) (crypto/sha256 echoed)) "echoed bytes differ")
    # close_notify from the client: the server reads EOF, then answers.
    (:close-notify c)
    (pump c s)
    (check (nil? (:read s 100)) "the server sees EOF")
    (:close-notify s)
    (pump c s)
    (check (nil? (:read c 100)) "the client sees EOF")))

(deftest "a bio stream reads into a caller's buffer and up to n bytes"
  (def [c s] (new-pair))
  (defer (do (:close c) (:close s))
    (handshake-pair c s)
    (:write s "hello, world")
    (pump c s)
    (def buf @"pre:")
    (check (= buf (:read c 5 buf)))
    (check (= "pre:hello" (string buf)))
    (check (= ", world" (string (:read c 100))))
    (check (= :want-read (:read c 100)))
    (check (= 0 (:write c "")))))

(deftest "a bio client resumes a session"
  (def scfg (tls/config (server-opts {:server true :session-tickets true})))
  (def ccfg (tls/config (client-opts)))
  (defer (do (:close scfg) (:close ccfg))
    (def [c1 s1] [(bio/new ccfg "localhost") (bio/new scfg)])
    (handshake-pair c1 s1)
    # a byte both ways, so TLS 1.3 tickets are processed
    (:write s1 "x") (pump c1 s1) (read-n s1 c1 1)
    (:write c1 "y") (pump c1 s1) (read-n c1 s1 1)
    (def blob (:session c1))
    (check blob "a session to resume")
    (:close c1) (:close s1)
    (def [c2 s2] [(bio/new ccfg "localhost" {:session blob}) (bio/new scfg)])
    (defer (do (:close c2) (:close s2))
      (handshake-pair c2 s2)
      (check (:resumed? c2) "resumed")
      (check (:resumed? s2)))))

(deftest "a failed verification raises and leaves the alert to send"
  (def other (cert/ca "another CA" {:days 1}))
  (def c (bio/new {:ca other} "localhost"))
  (def s (bio/new (server-opts {:server true})))
  (defer (do (:close c) (:close s) (:close other))
    (def e (protect
             (for _ 0 20
               (:handshake c)
               (pump c s)
               (:handshake s)
               (pump c s))))
    (check (not (e 0)) "the handshake failed")
    (check (= :verify-failed (tls/error-name (e 1))) "error %v" (e 1))
    (check (pos? (:pending-output c)) "an alert is queued for the peer")
    (:feed s (:drain c))
    (def r (protect (:handshake s)))
    (check (not (r 0)) "the server sees the alert")))

(deftest "garbage, truncation and use after close"
  (def [c s] (new-pair))
  (defer (do (:close c) (:close s))
    (:handshake s)
    (:feed s (string/repeat "\x16\x03\x01\x00\x05garbage" 4))
    (expect-error [:handshake :protocol] (:handshake s)))
  (def [c s] (new-pair))
  (defer (do (:close c) (:close s))
    (handshake-pair c s)
    (:write s "abc")
    (pump c s)
    (:feed-eof c)
    (check (= "abc" (string (:read c 10))) "data before the end is delivered")
    (expect-error :truncated (:read c 10)))
  (def [c s] (new-pair))
  (:close c)
  (:close c)
  (check (:closed? c))
  (expect-error :closed (:feed c "x"))
  (expect-error :closed (:read c 1))
  (expect-error :closed (:write c "x"))
  (expect-error :closed (:drain c))
  (expect-error :closed (:handshake c))
  (expect-error :closed (:version c))
  (:close s))

(deftest "bio argument errors"
  (expect-error :invalid-argument (bio/new 42))
  (expect-error :invalid-argument (bio/new (client-opts) "localhost" {:bogus 1}))
  (expect-error :invalid-argument (bio/new (client-opts) "local\0host"))
  (expect-error :invalid-argument (bio/new {:verify :maybe} "localhost"))
  (def cfg (tls/config (client-opts)))
  (:close cfg)
  (expect-error :closed (bio/new cfg "localhost"))
  (def c (bio/new (client-opts) "localhost"))
  (defer (:close c)
    (check (bio/bio? c))
    (expect-error :invalid-argument (:feed c 42))
    (expect-error :invalid-argument (:read c 0))
    (expect-error :invalid-argument (:read c 10 "not a buffer"))
    (expect-error :invalid-argument (:write c :sym))
    (expect-error :invalid-argument (:drain c "x"))
    (expect-error [:parse :invalid-argument] (bio/new (client-opts) "localhost" {:session "junk"}))))

# ---- against openssl s_server --------------------------------------------------

(def- have-openssl
  (= 0 (try (os/execute ["openssl" "version"] :px {:out (file/open "/dev/null" :w)})
         ([_] 1))))

(defn- read-until [stream text timeout]
  (def buf @"")
  (def deadline (+ (os/clock :monotonic) timeout))
  (while (not (string/find text buf))
    (def left (- deadline (os/clock :monotonic)))
    (when (<= left 0) (errorf "timed out waiting for %q; got %q" text buf))
    (unless (ev/read stream 4096 buf left) (break)))
  buf)

(defn- relay
  ``Until (done?) is true: run it, send what `b` queued over the net
  stream `tr`, feed what `tr` brings (within `timeout` s in all).``
  [b tr done? timeout]
  (def deadline (+ (os/clock :monotonic) timeout))
  (forever
    # (done?) runs the bio first: what it queues goes out before any wait.
    (def finished (done?))
    (def out (:drain b))
    (unless (empty? out) (:write tr out))
    (when finished (break))
    (def left (- deadline (os/clock :monotonic)))
    (when (<= left 0) (error "relay timed out"))
    (def got (ev/read tr 65536 nil left))
    (if got (:feed b got) (do (:feed-eof b) (break)))))

(deftest "a bio client over a net stream against openssl s_server -rev" {:timeout 60}
  (if (not have-openssl)
    (print "    (skipped: no openssl)")
    (do
      (def files {:cert (temp-file "bio-server.pem" (server-cert :cert-pem))
                  :key (temp-file "bio-server.key" (server-cert :key-pem))})
      (def p (os/spawn ["openssl" "s_server" "-accept" "127.0.0.1:0" "-cert" (files :cert)
                        "-key" (files :key) "-rev" "-naccept" "1"]
                       :p {:in :pipe :out :pipe :err :pipe}))
      (ev/spawn (while (ev/read (p :err) 4096)))
      (defer (do (protect (os/proc-kill p)) (protect (os/proc-wait p)) (protect (os/proc-close p)))
        (def banner (read-until (p :out) "ACCEPT" 10))
        (ev/spawn (while (ev/read (p :out) 4096)))
        (def port (scan-number ((peg/match ~(* (thru "ACCEPT ") (thru ":") (<- :d+)) banner) 0)))
        (def tr (net/connect "127.0.0.1" port))
        (def b (bio/new (client-opts) "localhost"))
        (defer (do (:close b) (:close tr))
          (relay b tr |(not= :want-read (:handshake b)) 20)
          (check (= true (:handshake b)))
          (check (string/find "localhost" ((:peer-cert b) :subject)))
          # lines come back reversed; checksum 200 of them
          (def lines (seq [i :range [0 200]] (crypto/hex (crypto/random-bytes (+ 1 (% i 40))))))
          (def want (string/join (map |(string/reverse $) lines) "\n"))
          (each l lines (:write b (string l "\n")))
          (def got @"")
          (relay b tr (fn []
                        (while (buffer? (:read b 65536 got)))
                        (>= (length got) (+ (length want) 1)))
                 20)
          (check (= (crypto/sha256 (string want "\n")) (crypto/sha256 got))
                 "reversed lines differ: %s" (short got))
          # close_notify both ways: s_server answers "CLOSE" with its own
          (:write b "CLOSE\n")
          (var eof false)
          (relay b tr (fn []
                        (def r (protect (:read b 4096)))
                        (when (and (r 0) (nil? (r 1))) (set eof true))
                        eof)
                 20)
          (check eof "the server's close_notify reads as EOF"))))))

(run-tests)
