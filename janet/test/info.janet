# Connection information computed in Janet: the negotiated suite's key size
# (:cipher-bits, from the suite's name) and the handshake's duration
# (:handshake-seconds), on TLS streams and memory streams.

(use ./harness)
(import mojo_tls/tls)
(import mojo_tls/bio)
(import mojo_tls/info :as i)

(deftest "suite-bits reads the key size from a suite name"
  (check (= 128 (i/suite-bits "TLS_AES_128_GCM_SHA256")))
  (check (= 256 (i/suite-bits "TLS_AES_256_GCM_SHA384")))
  (check (= 256 (i/suite-bits "TLS_CHACHA20_POLY1305_SHA256")))
  (check (= 128 (i/suite-bits "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256")))
  (check (= 256 (i/suite-bits "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384")))
  (check (nil? (i/suite-bits "TLS_NULL_WITH_NULL_NULL")))
  (check (nil? (i/suite-bits nil))))

(deftest ":cipher-bits and :handshake-seconds on TLS streams, per suite"
  (each [suite bits] [["TLS_AES_128_GCM_SHA256" 128]
                      ["TLS_AES_256_GCM_SHA384" 256]
                      ["TLS_CHACHA20_POLY1305_SHA256" 256]]
    (def l (echo-server {:ciphers suite}))
    (defer (:close l)
      (def t0 (os/clock :monotonic))
      (with [c (tls/connect "localhost" (:port l) (client-opts))]
        (def took (- (os/clock :monotonic) t0))
        (check (= suite (:cipher c)) "cipher %v" (:cipher c))
        (check (= bits (:cipher-bits c)) "%s: bits %v" suite (:cipher-bits c))
        (def hs (:handshake-seconds c))
        (check (and (number? hs) (pos? hs) (<= hs took)) "handshake %v s (connect took %v s)" hs took)))))

(deftest ":handshake-seconds is nil before the handshake; both raise :closed after close"
  (def l (echo-server))
  (defer (:close l)
    (def c (tls/connect "localhost" (:port l) (client-opts {:handshake false})))
    (check (nil? (:handshake-seconds c)))
    (:handshake c)
    (check (pos? (:handshake-seconds c)))
    (:close c)
    (expect-error :closed (:handshake-seconds c))
    (expect-error :closed (:cipher-bits c))))

(deftest ":cipher-bits and :handshake-seconds on memory streams"
  (def c (bio/new (client-opts) "localhost"))
  (def s (bio/new (server-opts {:server true})))
  (defer (do (:close c) (:close s))
    (check (nil? (:handshake-seconds c)))
    (var guard 0)
    (while (and (not (and (= true (:handshake c)) (= true (:handshake s)))) (< (++ guard) 50))
      (:feed s (:drain c))
      (:handshake s)
      (:feed c (:drain s)))
    (check (= 128 (:cipher-bits c) (:cipher-bits s)) "bits %v %v" (:cipher-bits c) (:cipher-bits s))
    (check (pos? (:handshake-seconds c)))
    (check (pos? (:handshake-seconds s)))))

(run-tests)
