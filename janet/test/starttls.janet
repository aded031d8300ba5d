# STARTTLS: plaintext on a Janet net stream, then tls/upgrade on both ends.

(use ./harness)
(import mojo_tls/tls)
(import mojo_tls/cert)
(import mojo_tls/ffi :as f)
(import mojo_tls/native :as n)

(defn- read-line
  "Read one CRLF-terminated line from a plain Janet stream (bounded)."
  [stream]
  (def buf @"")
  (while (not (string/find "\r\n" buf))
    (unless (ev/read stream 1 buf 10) (break)))
  (string buf))

(defn- starttls-server
  ``A plain TCP server speaking a tiny line protocol: it greets, answers
  "STARTTLS" with "OK", upgrades with `opts`, then echoes lines over TLS
  with a "tls:" prefix. Returns [listener results-channel].``
  [opts]
  (def results (ev/chan 4))
  (def l (net/server "127.0.0.1" 0
                     (fn [tr]
                       (ev/give results
                                (protect
                                  (ev/write tr "HELLO plain\r\n")
                                  (def cmd (read-line tr))
                                  (unless (= "STARTTLS\r\n" cmd) (errorf "got %q" cmd))
                                  (ev/write tr "OK\r\n")
                                  (with [s (tls/upgrade tr nil opts)]
                                    (def got @"")
                                    (while (def d (:read s 1000))
                                      (buffer/push got d)
                                      (:write s (string "tls:" d)))
                                    [(string got) (:server-name s)]))))))
  [l results])

(deftest "client and server upgrade a plain connection"
  (def [l results] (starttls-server (server-opts {:server true})))
  (defer (:close l)
    (def tr (net/connect "127.0.0.1" ((net/localname l) 1)))
    (check (= "HELLO plain\r\n" (read-line tr)))
    (ev/write tr "STARTTLS\r\n")
    (check (= "OK\r\n" (read-line tr)))
    (with [s (tls/upgrade tr "localhost" (client-opts))]
      (check (= tr (:transport s)))
      (check (= default-version (:version s)) "version %v" (:version s))
      (:write s "secret")
      (check (= "tls:secret" (string (:chunk s 10))))
      (:shutdown s))
    (def [ok v] (ev/take results))
    (check ok "server: %q" v)
    (check (= ["secret" "localhost"] v) "server saw %q" v)))

(deftest "upgrade with a shared server :config"
  (def cfg (tls/config (server-opts {:server true})))
  (def [l results] (starttls-server {:config cfg :timeout 10}))
  (defer (do (:close l) (:close cfg))
    (for i 0 3
      (def tr (net/connect "127.0.0.1" ((net/localname l) 1)))
      (read-line tr)
      (ev/write tr "STARTTLS\r\n")
      (read-line tr)
      (with [s (tls/upgrade tr "localhost" (client-opts))]
        (:write s (string i))
        (check (= (string "tls:" i) (string (:chunk s 5))))))))

(deftest "the TLS stream closes the plain stream, unless :close-transport false"
  (def [l results] (starttls-server (server-opts {:server true})))
  (defer (:close l)
    (def port ((net/localname l) 1))
    (defn open []
      (def tr (net/connect "127.0.0.1" port))
      (read-line tr)
      (ev/write tr "STARTTLS\r\n")
      (read-line tr)
      tr)
    (def tr1 (open))
    (def s1 (tls/upgrade tr1 "localhost" (client-opts)))
    (:close s1)
    (check (not ((protect (ev/write tr1 "x")) 0)) "the plain stream is still open")
    (def tr2 (open))
    (def s2 (tls/upgrade tr2 "localhost" (client-opts {:close-transport false})))
    (:close s2)
    # The plain stream is still ours: the server's TLS side saw close_notify.
    (check ((protect (ev/write tr2 "after")) 0) "the plain stream was closed")
    (:close tr2)))

(deftest "back to plaintext after TLS (:close-transport false) loses no byte"
  # The peer ends TLS and at once goes on in plaintext: the close_notify
  # and the plaintext arrive together, in one transport read.
  (def l (net/listen "127.0.0.1" 0))
  (defer (:close l)
    (def server-done (ev/chan 1))
    (ev/spawn
      (ev/give server-done
               (protect
                 (def tr (net/accept l))
                 (def s (tls/upgrade tr nil (server-opts {:server true :close-transport false})))
                 (check (= "bye" (string (:chunk s 3))))
                 # close_notify and plaintext in one write.
                 (f/mojo-tls-conn-close-notify (s :conn))
                 (def out @"")
                 (def k (n/to-int (f/mojo-tls-conn-pending-output (s :conn))))
                 (def buf (buffer/new-filled k))
                 (f/mojo-tls-conn-drain (s :conn) buf k)
                 (:write tr (string buf "PLAIN AFTER TLS\n"))
                 (:close s)
                 (:close tr))))
    (def tr (net/connect "127.0.0.1" ((net/localname l) 1)))
    (def s (tls/upgrade tr "localhost" (client-opts {:close-transport false})))
    (:write s "bye")
    (check (nil? (:read s 100)) "expected the peer's close_notify")
    (:close s)
    (def plain (buffer (:leftover s)))
    (while (and (not (string/find "\n" plain)) (ev/read tr 100 plain 5)))
    (check (= "PLAIN AFTER TLS\n" (string plain)) "plaintext after TLS: %q" plain)
    (:close tr)
    (def r (ev/take server-done))
    (check (r 0) "server: %s" (short (r 1)))))

(deftest "verification failure during upgrade raises and closes"
  (def [l results] (starttls-server (server-opts {:server true})))
  (defer (:close l)
    (def tr (net/connect "127.0.0.1" ((net/localname l) 1)))
    (read-line tr)
    (ev/write tr "STARTTLS\r\n")
    (read-line tr)
    (expect-error :verify-failed (tls/upgrade tr "other.name" (client-opts)))
    (def [ok e] (ev/take results))
    (check (not ok))
    (check (= :handshake (tls/error-name e)) "server error %q" e)))

(deftest "ciphertext read before the upgrade goes in :initial-data"
  (def l (tls/listen "127.0.0.1" 0 (server-opts)))
  (defer (:close l)
    (def accepted (ev/chan 1))
    (ev/spawn (ev/give accepted (protect (def s (tls/accept l)) (:write s "early") (:read s 10))))
    # A client whose first TLS bytes arrive before the server calls upgrade:
    # here, a server built by hand that reads the ClientHello first.
    (def raw (net/server "127.0.0.1" 0))
    (defer (:close raw)
      (def got (ev/chan 1))
      (ev/spawn
        (def tr (net/accept raw 10))
        (def hello (ev/read tr 65536 nil 10))
        (ev/give got (protect
                       (with [s (tls/upgrade tr nil (server-opts {:server true :initial-data hello}))]
                         (:write s "from upgraded server")
                         (string (:read s 100))))))
      (with [c (tls/connect "localhost" ((net/localname raw) 1) (client-opts))]
        (check (= "from upgraded server" (string (:read c 100))))
        (:write c "bye"))
      (def [ok v] (ev/take got))
      (check ok "server: %q" v)
      (check (= "bye" v)))
    (with [c (tls/connect "localhost" (:port l) (client-opts))]
      (check (= "early" (string (:read c 10))))
      (:write c "x"))
    (check (= "x" (string ((ev/take accepted) 1))))))

(run-tests)
