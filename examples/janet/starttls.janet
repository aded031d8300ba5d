# STARTTLS: a plaintext line protocol on Janet's own net streams, upgraded
# to TLS in place with tls/upgrade on both sides. Self-contained, loopback.
#
#   janet starttls.janet

(import mojo_tls/tls)
(import mojo_tls/cert)

# Sockets are written with their :write method (net/write: send with
# MSG_NOSIGNAL): ev/write is write(2), whose SIGPIPE kills the process when
# the peer has gone away.

(defn- read-line [stream]
  (def buf @"")
  (while (not (string/find "\n" buf))
    (unless (ev/read stream 1 buf 10) (break)))
  (string/trimr buf))

(defn main [&]
  (def ca (cert/ca "demo CA"))
  (def leaf (cert/leaf ca "localhost"))
  # Server: greet in plaintext, upgrade on "STARTTLS", then answer over TLS.
  (def server (net/server "127.0.0.1" 0
                          (fn [conn]
                            (:write conn "220 ready\r\n")
                            (when (= "STARTTLS" (read-line conn))
                              (:write conn "220 go ahead\r\n")
                              (with [s (tls/upgrade conn nil {:server true :cert leaf :timeout 10})]
                                (def line (:read s 1024))
                                (:write s (string "secret received: " line)))))))
  (def port ((net/localname server) 1))
  # Client.
  (def conn (net/connect "127.0.0.1" port))
  (print "S: " (read-line conn))
  (:write conn "STARTTLS\r\n")
  (print "C: STARTTLS")
  (print "S: " (read-line conn))
  (with [s (tls/upgrade conn "localhost" {:ca ca :timeout 10})]
    (printf "-- now %s with %s, server %s" (:version s) (:cipher s) ((:peer-cert s) :subject))
    (:write s "the password is swordfish")
    (print "S (tls): " (:read s 1024)))
  (:close server))
