# Certificate verification: what must fail, with which error and message.

(use ./harness)
(import mojo_tls/tls)
(import mojo_tls/cert)

(defn- serve-cert
  "A server presenting `c` (a generated cert) that writes \"ok\"; returns the listener."
  [c &opt extra]
  (tls/server "127.0.0.1" 0 (fn [s] (:write s "ok")) (merge {:cert c :timeout 10} (or extra {}))))

(defn- lower [s] (string/ascii-lower s))

(def- f-code (tls/codes :verify-failed))

(deftest "untrusted CA"
  (with [l (serve-cert server-cert)]
    (def e (expect-error :verify-failed
                         (tls/connect "localhost" (:port l) {:ca (cert/ca "stranger") :timeout 10})))
    (check (= f-code (e :code)) "code %v" (e :code))
    (check (string/find "not correctly signed" (e :message)) "message %v" (e :message))
    (check (= "connect" (e :context)))))

(deftest "the system store does not trust a private CA"
  (with [l (serve-cert server-cert)]
    (expect-error [:verify-failed :not-found] (tls/connect "localhost" (:port l) {:timeout 10}))))

(deftest "host name mismatch, and :check-hostname false"
  (with [l (serve-cert server-cert)]
    (def e (expect-error :verify-failed
                         (tls/connect "127.0.0.1" (:port l) (client-opts {:sni "example.org"}))))
    # the message names the host expected and the names checked
    (check (string/find `does not match host name "example.org" (checked subjectAltName entries: DNS:` (e :message))
           "message %v" (e :message))
    (with [c (tls/connect "127.0.0.1" (:port l) (client-opts {:sni "example.org" :check-hostname false}))]
      (check (= "ok" (string (:read c 10)))))))

(deftest "IP address not in the certificate's SANs"
  (def dns-only (cert/leaf ca "localhost" {:sans ["localhost"]}))
  (with [l (serve-cert dns-only)]
    (def e (expect-error :verify-failed (tls/connect "127.0.0.1" (:port l) (client-opts))))
    (check (string/find `host name "127.0.0.1" (checked subjectAltName entries: DNS:localhost)` (e :message))
           "message %v" (e :message))
    (with [c (tls/connect "localhost" (:port l) (client-opts))]
      (check (= "ok" (string (:read c 10)))))))

(deftest "expired and not yet valid certificates"
  (def expired (cert/leaf ca "localhost" {:not-before-days -30 :days 10}))
  (def future (cert/leaf ca "localhost" {:not-before-days 10 :days 30}))
  (with [l (serve-cert expired)]
    (def e (expect-error :verify-failed (tls/connect "localhost" (:port l) (client-opts))))
    (check (string/find "expired" (lower (e :message))) "message %v" (e :message))
    # :optional records the failure and connects.
    (with [c (tls/connect "localhost" (:port l) (client-opts {:verify :optional}))]
      (check (pos? (:verify-flags c)))
      (check (string/find "expired" (lower (:verify-reason c))) "reason %v" (:verify-reason c))
      (check (= "ok" (string (:read c 10))))))
  (with [l (serve-cert future)]
    (def e (expect-error :verify-failed (tls/connect "localhost" (:port l) (client-opts))))
    (check (string/find "future" (lower (e :message))) "message %v" (e :message))))

(deftest "revoked certificate (CRL in memory and from a file)"
  (def leaf (cert/leaf ca "localhost" {:sans ["localhost"]}))
  (def crl (cert/crl ca [leaf]))
  (check (string/has-prefix? "-----BEGIN X509 CRL-----" crl))
  (with [l (serve-cert leaf)]
    (def e (expect-error :verify-failed (tls/connect "localhost" (:port l) (client-opts {:crl crl}))))
    (check (string/find "revoked" (lower (e :message))) "message %v" (e :message))
    (def path (temp-file "revoked.crl" crl))
    (expect-error :verify-failed (tls/connect "localhost" (:port l) (client-opts {:crl-file path})))
    # A CRL revoking something else does not matter.
    (with [c (tls/connect "localhost" (:port l) (client-opts {:crl (cert/crl ca [])}))]
      (check (= "ok" (string (:read c 10)))))))

(deftest "a client-only certificate is not accepted as a server's"
  (def wrong-usage (cert/leaf ca "localhost" {:usage :client}))
  (with [l (serve-cert wrong-usage)]
    (expect-error [:verify-failed :handshake] (tls/connect "localhost" (:port l) (client-opts)))))

(deftest "mutual TLS: wrong client CA, missing certificate, optional"
  (def stranger-ca (cert/ca "stranger"))
  (def stranger (cert/leaf stranger-ca "stranger" {:usage :client}))
  (def errors (ev/chan 8))
  (defn server [mode]
    (tls/server "127.0.0.1" 0
                (fn [s] (:write s (if-let [pc (:peer-cert s)] (pc :subject) "anonymous")))
                (server-opts {:client-auth mode :ca ca :on-error (fn [e s] (ev/give errors e))})))
  (with [l (server :required)]
    (expect-error [:handshake :truncated :closed :protocol :io]
                  (with [c (tls/connect "localhost" (:port l) (client-opts {:cert stranger}))]
                    (:read c 10)))
    (def e (ev/take errors))
    (check (= :verify-failed (tls/error-name e)) "server error %q" e))
  (with [l (server :optional)]
    (with [c (tls/connect "localhost" (:port l) (client-opts))]
      (check (= "anonymous" (string (:read c 100)))))
    (with [c (tls/connect "localhost" (:port l) (client-opts {:cert client-cert}))]
      (check (= "CN=test client" (string (:read c 100)))))))

(deftest "pins must match even when the chain verifies"
  (with [l (serve-cert server-cert)]
    (def e (expect-error :verify-failed
                         (tls/connect "localhost" (:port l) (client-opts {:pins [(cert/sha256 "not it")]}))))
    (check (string/find "pin" (e :message)))
    (with [c (tls/connect "localhost" (:port l) (client-opts {:pins [(server-cert :sha256)]}))]
      (check (= "ok" (string (:read c 10)))))))

(deftest "TLS 1.3 minimum and TLS 1.2 maximum are honoured"
  (with [l (serve-cert server-cert)]
    (with [c (tls/connect "localhost" (:port l) (client-opts {:min-version :tls1.3}))]
      (check (= "TLSv1.3" (:version c))))
    (with [c (tls/connect "localhost" (:port l) (client-opts {:min-version :tls1.2 :max-version "TLSv1.2"}))]
      (check (= "TLSv1.2" (:version c))))))

(run-tests)
