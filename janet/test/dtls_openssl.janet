# DTLS interoperability with the openssl command line on 127.0.0.1: our
# client against `openssl s_server -dtls1_2` (with and without a client
# certificate), `openssl s_client -dtls1_2` against our one-socket server
# (with and without one). Every openssl process is ours, killed by its PID
# and waited for; every wait is bounded. Skipped without openssl.

(use ./harness)
(import mojo_tls/dtls)
(import mojo_tls/cert)

(def- have-openssl
  (= 0 (try (os/execute ["openssl" "version"] :px {:out (file/open "/dev/null" :w)})
         ([_] 1))))

(defmacro- with-openssl [& body]
  ~(if have-openssl (do ,;body) (print "    (skipped: no openssl command)")))

(defn- pem-files []
  {:ca (temp-file "ca.pem" (ca :cert-pem))
   :server-cert (temp-file "server.pem" (server-cert :cert-pem))
   :server-key (temp-file "server.key" (server-cert :key-pem))
   :client-cert (temp-file "client.pem" (client-cert :cert-pem))
   :client-key (temp-file "client.key" (client-cert :key-pem))})

(defn- take-within [ch timeout]
  (def timer (ev/chan 1))
  (ev/spawn (ev/sleep timeout) (ev/give timer :timeout))
  (def [_ c v] (ev/select ch timer))
  (if (= c ch) v nil))

(defn- spawn
  "Start `openssl args...` with piped stdio; stdout and stderr are collected."
  [& args]
  (def p (os/spawn ["openssl" ;args] :p {:in :pipe :out :pipe :err :pipe}))
  (def out @"")
  (def errbuf @"")
  (def exit (ev/chan 1))
  (ev/spawn (while (ev/read (p :out) 4096 out)))
  (ev/spawn (while (ev/read (p :err) 4096 errbuf)))
  (ev/spawn (ev/give exit (os/proc-wait p)))
  @{:proc p :out out :errbuf errbuf :exit exit})

(defn- wait-exit [p timeout]
  (when (nil? (p :code))
    (put p :code (take-within (p :exit) timeout)))
  (p :code))

(defn- stop [p]
  (when (nil? (p :code))
    (protect (os/proc-kill (p :proc)))
    (wait-exit p 10))
  (protect (os/proc-close (p :proc))))

(defn- wait-for
  "Wait until (pred) holds, for at most `timeout` seconds; returns whether it did."
  [pred timeout]
  (def deadline (+ (os/clock :monotonic) timeout))
  (while (and (not (pred)) (< (os/clock :monotonic) deadline))
    (ev/sleep 0.02))
  (truthy? (pred)))

(defn- s-server
  "openssl s_server -dtls1_2 on a free UDP port with `extra` args; returns [proc port]."
  [files & extra]
  (def p (spawn "s_server" "-dtls1_2" "-accept" "127.0.0.1:0" "-cert" (files :server-cert)
                "-key" (files :server-key) ;extra))
  (unless (wait-for |(string/find "ACCEPT" (p :out)) 10)
    (stop p)
    (errorf "s_server did not start: %s %s" (p :out) (p :errbuf)))
  (def m (peg/match ~(* (thru "ACCEPT ") (thru ":") (<- :d+)) (p :out)))
  (unless m (stop p) (errorf "cannot parse the s_server port from %q" (p :out)))
  [p (scan-number (m 0))])

(defn- client-vs-s-server [files client-extra & server-extra]
  (def [p port] (s-server files ;server-extra))
  (defer (stop p)
    (with [c (dtls/connect "localhost" port (client-opts (merge {:retransmit-min 0.2} client-extra)))]
      (check (= "DTLSv1.2" (:version c)) "version %v" (:version c))
      # Printable datagrams: s_server prints what it receives on stdout.
      (def rng (math/rng 11))
      (def sent @"")
      (for i 0 40
        (def msg (string "<" i ":" (cert/hex (math/rng-buffer rng (+ 1 (math/rng-int rng 400)))) ">"))
        (:write c msg)
        (buffer/push sent msg)
        (ev/sleep 0.002))
      (check (wait-for |(string/find sent (p :out)) 10)
             "s_server did not print the %d bytes sent (sha256 %s)" (length sent) (cert/hex (cert/sha256 sent)))
      # Lines typed into s_server come back one datagram each, intact.
      (for i 0 5
        (def line (string "line " i " " (cert/hex (cert/sha256 (string i))) "\n"))
        (ev/write ((p :proc) :in) line)
        (def got (:read c nil nil 10))
        (check (= line (string got)) "line %d: got %q" i got)))))

(deftest "our client -> openssl s_server -dtls1_2: datagrams both ways"
  (with-openssl
    (def files (pem-files))
    (client-vs-s-server files {})))

(deftest "our client with a certificate -> openssl s_server -dtls1_2 -Verify"
  (with-openssl
    (def files (pem-files))
    (client-vs-s-server files {:cert client-cert} "-Verify" "1" "-CAfile" (files :ca) "-verify_return_error")))

(deftest "a 300-byte MTU: s_server -Verify reassembles our fragmented certificate flight"
  (with-openssl
    (def files (pem-files))
    (def [p port] (s-server files "-Verify" "1" "-CAfile" (files :ca) "-verify_return_error"))
    (defer (stop p)
      # Our Certificate message alone is larger than 300 bytes.
      (check (> (length (client-cert :cert-der)) 300))
      (with [c (dtls/connect "localhost" port (client-opts {:mtu 300 :cert client-cert :retransmit-min 0.2}))]
        (:write c "<small enough>")
        (expect-error :invalid-argument (:write c (string/repeat "x" 400)))
        (:write c "<still going>")
        (check (wait-for |(string/find "<small enough><still going>" (p :out)) 10)
               "s_server printed %q" (p :out))))))

(deftest "our client rejects openssl s_server's untrusted certificate"
  (with-openssl
    (def files (pem-files))
    (def [p port] (s-server files))
    (defer (stop p)
      (expect-error :verify-failed
                    (dtls/connect "localhost" port {:ca (cert/ca "someone else") :timeout 10})))))

(defn- s-client-vs-server [files opts & client-extra]
  (def seen (ev/chan 1))
  (def l (dtls/server "127.0.0.1" 0
                      (fn [s]
                        (def cert (:peer-cert s))
                        (var n 0)
                        (while (def d (:read s 1000 nil 10))
                          (when (= "quit\n" (string d)) (break))
                          (++ n)
                          (:write s d))
                        # Returning closes the stream: its close_notify ends s_client.
                        (ev/give seen [n (when cert (cert :subject))]))
                      (merge {:cert server-cert :timeout 20} opts)))
  (defer (:close l)
    (def p (spawn "s_client" "-dtls1_2" "-connect" (string "127.0.0.1:" (:port l))
                  "-CAfile" (files :ca) "-verify_return_error" "-quiet" ;client-extra))
    (defer (stop p)
      (def expected @"")
      (for i 0 30
        (def line (string "datagram " i " " (cert/hex (cert/sha256 (string "x" i))) "\n"))
        (buffer/push expected line)
        (ev/write ((p :proc) :in) line)
        # One line per datagram: s_client sends what one read of stdin gives.
        (check (wait-for |(string/has-suffix? expected (p :out)) 10)
               "line %d not echoed; s_client printed %q, stderr %s" i (p :out) (p :errbuf)))
      (check (= (string expected) (string (p :out))) "echo differs")
      (ev/write ((p :proc) :in) "quit\n")
      (def code (wait-exit p 10))
      (check (= 0 code) "s_client exit %v; stderr %s" code (p :errbuf)))
    (def r (take-within seen 10))
    (check r "the handler did not end")
    (check (= 30 (r 0)) "the server read %v datagrams" (r 0))
    (r 1)))

(deftest "openssl s_client -dtls1_2 -> our server: 30 lines echoed, our close_notify ends it"
  (with-openssl
    (def files (pem-files))
    (check (nil? (s-client-vs-server files {})))))

(deftest "openssl s_client -dtls1_2 with a certificate -> our server requiring one"
  (with-openssl
    (def files (pem-files))
    (def subject (s-client-vs-server files {:client-auth :required :ca ca}
                                     "-cert" (files :client-cert) "-key" (files :client-key)))
    (check (= "CN=test client" subject) "subject %v" subject)))

(run-tests)
