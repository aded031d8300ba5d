# Bad input: wrong options and arguments, garbage certificates and keys,
# missing files, peers that do not speak TLS, abrupt disconnects.

(use ./harness)
(import mojo_tls/tls)
(import mojo_tls/cert)
(import mojo_tls/ffi :as f)

(deftest "unknown and ill-typed options"
  (expect-error :invalid-argument (tls/config {:verfy false}))
  (expect-error :invalid-argument (tls/config {:verify "yes"}))
  (expect-error :invalid-argument (tls/config {:server true :client-auth :sometimes}))
  (expect-error :invalid-argument (tls/config {:min-version :tls9}))
  (expect-error :invalid-argument (tls/config {:max-version 1.1}))
  (expect-error :invalid-argument (tls/config {:alpn ["h2,http/1.1"]}))
  (expect-error :invalid-argument (tls/config {:alpn [""]}))
  (expect-error :invalid-argument (tls/config {:alpn 42}))
  (expect-error :invalid-argument (tls/config {:pins ["too short"]}))
  (expect-error :invalid-argument (tls/config {:pins [[:fingerprint (string/repeat "a" 32)]]}))
  (expect-error :invalid-argument (tls/config {:ciphers ["TLS_RSA_WITH_RC4_128_SHA"]}))
  (expect-error :invalid-argument (tls/config {:ca-file "a\0b"}))
  (expect-error :invalid-argument (tls/config [:verify false]))
  (expect-error :invalid-argument (tls/connect "localhost" 443 {:timeout -1}))
  (expect-error :invalid-argument (tls/connect "localhost" 70000 {}))
  (expect-error :invalid-argument (tls/connect "local\0host" 443 {}))
  (expect-error :invalid-argument (tls/connect 'localhost 443 {:config (tls/config {:server true})}))
  (expect-error :invalid-argument (tls/listen "127.0.0.1" -1 {})))

(deftest "bad arguments to stream methods"
  (def l (echo-server))
  (defer (:close l)
    (with [c (tls/connect "localhost" (:port l) (client-opts))]
      (expect-error :invalid-argument (:read c -1))
      (expect-error :invalid-argument (:read c :some))
      (expect-error :invalid-argument (:read c 10 "not a buffer"))
      (expect-error :invalid-argument (:read c 10 nil -5))
      (expect-error :invalid-argument (:write c 42))
      (expect-error :invalid-argument (:write c "x" :soon))
      (expect-error :invalid-argument (:chunk c 1.5))
      # The stream still works.
      (:write c "fine")
      (check (= "fine" (string (:chunk c 4)))))))

(deftest "garbage and mismatched certificates and keys"
  (def e (expect-error :parse (tls/config {:ca "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n"})))
  (check (string/find "parse" (string/ascii-lower (e :message))) "message %v" (e :message))
  (expect-error :parse (tls/config {:ca @"\x30\x82\x01\x00garbage"}))
  (expect-error :invalid-argument (tls/config {:ca ""}))
  (expect-error :parse (tls/config {:server true :cert "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
                                    :key (server-cert :key-pem)}))
  (expect-error :parse (tls/config {:server true :cert (server-cert :cert-pem)
                                    :key "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}))
  # A key that is not the certificate's.
  (expect-error [:parse :invalid-argument] (tls/config {:server true :cert (server-cert :cert-pem)
                                                        :key (client-cert :key-pem)}))
  (expect-error :invalid-argument (tls/config {:server true :cert (server-cert :cert-pem)}))
  (expect-error :parse (tls/config {:crl "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"})))

(deftest "missing files"
  (def missing (string (temp-dir) "/does-not-exist.pem"))
  (expect-error :not-found (tls/config {:ca-file missing}))
  (expect-error :not-found (tls/config {:ca-dir missing}))
  (expect-error :not-found (tls/config {:server true :cert missing :key missing}))
  (expect-error :not-found (tls/config {:crl-file missing})))

(deftest "encrypted keys: right, wrong and missing password"
  (def plain (temp-file "plain.key" (server-cert :key-pem)))
  (def enc (string (temp-dir) "/enc.key"))
  (def ok (try (os/execute ["openssl" "pkcs8" "-topk8" "-in" plain "-out" enc
                            "-passout" "pass:s3cret"] :px)
            ([_] nil)))
  (if (not= ok 0)
    (print "    (skipped: openssl cannot encrypt a key here)")
    (do
      (def certfile (temp-file "server.pem" (server-cert :cert-pem)))
      (expect-error :bad-password (tls/config {:server true :cert certfile :key enc}))
      (expect-error :bad-password (tls/config {:server true :cert certfile :key enc :password "wrong"}))
      (def cfg (tls/config {:server true :cert certfile :key enc :password "s3cret"}))
      (def l (tls/server "127.0.0.1" 0 (fn [s] (:write s "encrypted key ok")) {:config cfg}))
      (defer (do (:close l) (:close cfg))
        (with [c (tls/connect "localhost" (:port l) (client-opts))]
          (check (= "encrypted key ok" (string (:read c 100)))))
        # Also from memory.
        (def cfg2 (tls/config {:server true :cert (server-cert :cert-pem) :key (slurp enc) :password "s3cret"}))
        (:close cfg2)))))

(deftest "connect failures: refused port, accept timeout, closed listener"
  (def e (expect-error :connect (tls/connect "127.0.0.1" (free-port) (client-opts {:timeout 5}))))
  (check (string/find "refused" (string/ascii-lower (e :message))) "message %v" (e :message))
  (def l (tls/listen "127.0.0.1" 0 (server-opts)))
  (def t0 (os/clock :monotonic))
  (expect-error :timeout (tls/accept l {:timeout 0.2}))
  (check (< (- (os/clock :monotonic) t0) 5))
  (:close l)
  (:close l)
  (check (:closed? l))
  (expect-error :closed (tls/accept l {:timeout 1}))
  (expect-error :closed (:port l)))

(deftest "a plaintext peer: our server gets an error, our client too"
  (def errors (ev/chan 4))
  (def l (tls/server "127.0.0.1" 0 (fn [s] (:write s "never"))
                     (server-opts {:on-error (fn [e s] (ev/give errors e))})))
  (defer (:close l)
    (def tr (net/connect "127.0.0.1" (:port l)))
    (ev/write tr "GET / HTTP/1.0\r\n\r\n")
    # The server answers with an alert (or just closes).
    (ev/read tr 1000 nil 10)
    (:close tr)
    (def e (ev/take errors))
    (check (tls/error-code e) "server error %q" e))
  # A server that answers in plaintext.
  (def plain (net/server "127.0.0.1" 0
                         (fn [tr]
                           (ev/read tr 1000 nil 10)
                           (ev/write tr "HTTP/1.1 400 Bad Request\r\n\r\n")
                           (:close tr))))
  (defer (:close plain)
    (def e (expect-error [:handshake :protocol :truncated :io]
                         (tls/connect "localhost" ((net/localname plain) 1) (client-opts))))
    (check (string? (e :message)))))

(deftest "random garbage from a peer never crashes the client" {:timeout 120}
  (def rng (math/rng 42))
  (def junk @[])
  (for i 0 30
    (def b (math/rng-buffer rng (+ 1 (math/rng-int rng 3000))))
    # Half of them look like a TLS record header first.
    (when (even? i) (put b 0 0x16) (put b 1 3) (put b 2 3))
    (array/push junk b))
  (def queue (ev/chan 64))
  (each j junk (ev/give queue j))
  (def plain (net/server "127.0.0.1" 0
                         (fn [tr]
                           (def j (ev/take queue))
                           (ev/read tr 4096 nil 10)
                           (protect (ev/write tr j))
                           (ev/sleep 0.05)
                           (:close tr))))
  (defer (:close plain)
    (def port ((net/localname plain) 1))
    (for i 0 (length junk)
      (def r (protect (tls/connect "localhost" port (client-opts {:timeout 10}))))
      (check (not (r 0)) "connect %d succeeded on garbage" i)
      (check (tls/error-code (r 1)) "connect %d raised a non-library error %q" i (r 1)))))

(deftest "the peer disconnects in the middle of the handshake"
  (def plain (net/server "127.0.0.1" 0 (fn [tr] (ev/read tr 10 nil 10) (:close tr))))
  (defer (:close plain)
    (expect-error [:handshake :truncated :io :closed :protocol]
                  (tls/connect "localhost" ((net/localname plain) 1) (client-opts)))))

(deftest "handshake timeout against a silent server"
  (def silent (net/server "127.0.0.1" 0 (fn [tr] (ev/sleep 5) (:close tr))))
  (defer (:close silent)
    (def t0 (os/clock :monotonic))
    (def e (expect-error :timeout (tls/connect "localhost" ((net/localname silent) 1) (client-opts {:timeout 0.3}))))
    (check (< (- (os/clock :monotonic) t0) 3))
    (check (= "connect" (e :context)))))

(deftest "certificate generation: bad arguments, closed issuers"
  (expect-error :invalid-argument (cert/ca "x" {:key :rsa9}))
  (expect-error :invalid-argument (cert/ca "x" {:days 1.5}))
  (expect-error :invalid-argument (cert/ca "x\0y"))
  (expect-error :invalid-argument (cert/leaf ca "x" {:usage :email}))
  (expect-error :invalid-argument (cert/leaf ca "x" {:sans ["a,b"]}))
  (expect-error :invalid-argument (cert/leaf "not a cert" "x"))
  (expect-error :invalid-argument (cert/crl ca ["not a cert"]))
  (def tmp-ca (cert/ca "short-lived"))
  (:close tmp-ca)
  (:close tmp-ca)
  (check (string/has-prefix? "-----BEGIN CERTIFICATE-----" (tmp-ca :cert-pem)) "PEM kept after close")
  (expect-error :closed (cert/leaf tmp-ca "x"))
  (expect-error :closed (cert/crl tmp-ca []))
  # The PEM helpers.
  (def p384 (cert/self-signed "p384" {:key :p384 :usage [:server :client]}))
  (def paths [(string (temp-dir) "/p.pem") (string (temp-dir) "/p.key")])
  (:write p384 ;paths)
  (check (= (p384 :cert-pem) (string (slurp (paths 0)))))
  (check (= 8r600 (band 8r777 (os/stat (paths 1) :int-permissions)))))

(deftest "sha256, random bytes, hex"
  (check (= "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" (cert/hex (cert/sha256 ""))))
  (check (= 32 (length (cert/random-bytes 32))))
  (check (not= (cert/random-bytes 16) (cert/random-bytes 16)))
  (check (= "" (cert/random-bytes 0)))
  (expect-error :invalid-argument (cert/random-bytes -1))
  (expect-error :invalid-argument (cert/sha256 42)))

(deftest "every generated FFI binding resolves in the loaded library"
  (def env (require "mojo_tls/ffi"))
  (def path (get-in env ['mojo-tls-library-path :value]))
  (check (string/has-suffix? "mojo_tls/libmojo_tls.so.1" path) "library %v (not the bundled one)" path)
  (def native (ffi/native path))
  (def names (seq [[k v] :pairs env
                   :when (and (symbol? k) (string/has-prefix? "mojo-tls-" k)
                              (function? (get v :value)) (not (get v :private)))]
               (string/replace-all "-" "_" k)))
  (check (>= (length names) 90) "only %d bindings" (length names))
  (def missing (filter |(nil? (ffi/lookup native $)) names))
  (check (empty? missing) "missing symbols: %q" missing))

(deftest "forged and stale handles are rejected, not crashes"
  (def fake (buffer/new-filled 64 0x41))
  (each [name r] [["conn-read" (f/mojo-tls-conn-read fake (buffer/new-filled 8) 8)]
                  ["conn-handshake" (f/mojo-tls-conn-handshake fake)]
                  ["conn-free" (f/mojo-tls-conn-free fake)]
                  ["config-free" (f/mojo-tls-config-free fake)]
                  ["gencert-free" (f/mojo-tls-gencert-free fake)]
                  ["conn-pending" (f/mojo-tls-conn-pending nil)]]
    (def r (if (number? r) r (int/to-number r)))
    (check (= f/MOJO_TLS_ERR_INVALID_HANDLE r) "%s returned %v" name r))
  (check (nil? (f/mojo-tls-conn-new-memory fake nil)) "a conn from a forged config"))

(run-tests)
