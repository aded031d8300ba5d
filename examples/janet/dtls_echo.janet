# A DTLS echo server and its clients in one event loop: the server listens
# on one UDP socket and serves every client in its own fiber; each client
# sends datagrams and checks that each comes back whole, as one datagram.
#
#   janet dtls_echo.janet [CLIENTS] [DATAGRAMS]     (defaults 5 and 10)
#
# It generates a CA and a certificate for localhost. Against another DTLS
# peer use dtls/connect or dtls/server alone, e.g. with
#   openssl s_server -dtls1_2 -accept 127.0.0.1:4433 -cert c.pem -key k.pem

(import mojo_tls/dtls)
(import mojo_tls/cert)

(defn main [_ &opt clients datagrams]
  (def clients (scan-number (or clients "5")))
  (def datagrams (scan-number (or datagrams "10")))
  (def ca (cert/ca "dtls example CA" {:days 1}))
  (def leaf (cert/leaf ca "localhost" {:sans ["localhost" "127.0.0.1"] :days 1}))

  # The server: (handler stream) runs in a new fiber per client.
  (def server (dtls/server "127.0.0.1" 0
                           (fn [s]
                             (def [host port] (:peername s))
                             (eprintf "server: %s:%d %s %s" host port (:version s) (:cipher s))
                             (while (def d (:read s))   # one datagram; nil at close_notify
                               (:write s d)))
                           {:cert leaf}))
  (def port (:port server))
  (print "listening on UDP port " port)

  (def done (ev/chan clients))
  (for id 0 clients
    (ev/spawn
      (ev/give done
               (protect
                 (with [c (dtls/connect "localhost" port {:ca ca :timeout 10})]
                   (for i 0 datagrams
                     (def msg (string "client " id " datagram " i " " (cert/hex (cert/random-bytes (* 8 i)))))
                     (:write c msg)
                     (def echo (:read c nil nil 5))
                     (unless (= msg (string echo))
                       (errorf "client %d: datagram %d came back as %q" id i echo))))))))
  (def failures (seq [_ :range [0 clients] :let [[ok err] (ev/take done)] :unless ok]
                  (if (dtls/error-code err) (err :message) err)))
  (:close server)
  (if (empty? failures)
    (printf "%d clients x %d datagrams echoed" clients datagrams)
    (do (each f failures (eprint "error: " f)) (os/exit 1))))
