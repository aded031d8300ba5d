# A TLS client: connect, send a message, print what comes back.
#
#   janet client.janet localhost 8443 --cafile ca.pem --send hello
#   janet client.janet example.com 443 --send "HEAD / HTTP/1.0\r\nHost: example.com\r\n\r\n"
#
# Options: --cafile FILE (else the system store) --send TEXT (\r and \n
# are unescaped) --alpn h2,http/1.1 --insecure (no verification)
# --timeout SECONDS (10)

(import mojo_tls/tls)

(defn- unescape [s] (->> s (string/replace-all "\\r" "\r") (string/replace-all "\\n" "\n")))

(defn main [_ & args]
  (when (< (length args) 2)
    (eprint "usage: janet client.janet HOST PORT [--cafile F] [--send TEXT] [--alpn P,Q] [--insecure]")
    (os/exit 2))
  (def [host port] args)
  (def opts @{:timeout 10})
  (var message "hello from janet\n")
  (var i 2)
  (while (< i (length args))
    (case (args i)
      "--cafile" (do (put opts :ca-file (args (+ i 1))) (+= i 2))
      "--send" (do (set message (unescape (args (+ i 1)))) (+= i 2))
      "--alpn" (do (put opts :alpn (args (+ i 1))) (+= i 2))
      "--timeout" (do (put opts :timeout (scan-number (args (+ i 1)))) (+= i 2))
      "--insecure" (do (put opts :verify false) (++ i))
      (do (eprint "unknown argument " (args i)) (os/exit 2))))
  (def r (protect
           (with [s (tls/connect host (scan-number port) opts)]
             (eprintf "%s %s alpn=%v peer=%s" (:version s) (:cipher s) (:alpn s)
                      ((:peer-cert s) :subject))
             (:write s message)
             # Echo servers answer with as many bytes; others may close.
             (def reply @"")
             (while (< (length reply) (length message))
               (unless (:read s 65536 reply) (break)))
             (prin reply)
             (flush))))
  (unless (r 0)
    (def e (r 1))
    (eprintf "error: %s (%v)" (get e :message e) (tls/error-name e))
    (os/exit 1)))
