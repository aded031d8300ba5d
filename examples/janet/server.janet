# A TLS echo server: one fiber per client, all in one event loop.
# Without --cert it generates a CA and a certificate for localhost and
# writes the CA to ca.pem for clients.
#
#   janet server.janet --port 8443
#   janet client.janet localhost 8443 --cafile ca.pem --send hello
#
# Options: --host H (127.0.0.1) --port P (8443; 0 = any free port)
#          --cert FILE --key FILE --max-clients N (0 = never stop)
#          --timeout SECONDS (per connection, 30)

(import mojo_tls/tls)
(import mojo_tls/cert)

(defn- parse-args [args]
  (def opts @{:host "127.0.0.1" :port 8443 :max-clients 0 :timeout 30})
  (var i 0)
  (while (< i (length args))
    (def a (args i))
    (def v (get args (+ i 1)))
    (case a
      "--host" (put opts :host v)
      "--port" (put opts :port (scan-number v))
      "--cert" (put opts :cert v)
      "--key" (put opts :key v)
      "--max-clients" (put opts :max-clients (scan-number v))
      "--timeout" (put opts :timeout (scan-number v))
      (do (eprint "unknown argument " a) (os/exit 2)))
    (+= i 2))
  opts)

(defn- serve-one [s]
  (def [host port] (:peername s))
  (eprintf "%s:%d: %s %s sni=%v" host port (:version s) (:cipher s) (:server-name s))
  (def r (protect (while (def d (:read s 65536)) (:write s d))))
  (unless (r 0) (eprintf "%s:%d: %s" host port (get (r 1) :message (r 1)))))

(defn main [_ & args]
  (def opts (parse-args args))
  (def tls-opts @{:timeout (opts :timeout)})
  (if (opts :cert)
    (merge-into tls-opts {:cert (opts :cert) :key (opts :key)})
    (let [ca (cert/ca "mojo-tls example CA")
          leaf (cert/leaf ca "localhost" {:sans ["localhost" "127.0.0.1" "::1"]})]
      (:write ca "ca.pem")
      (eprint "generated a certificate for localhost; clients trust ca.pem")
      (put tls-opts :cert leaf)))
  (def l (tls/listen (opts :host) (opts :port) tls-opts))
  (printf "listening on %s:%d" (opts :host) (:port l))
  (flush)
  (var served 0)
  (def max-clients (opts :max-clients))
  (def running @[])
  (while (or (zero? max-clients) (< served max-clients))
    (def s (protect (tls/accept l {:timeout nil})))
    (if (s 0)
      (let [conn (s 1)]
        (++ served)
        (array/push running (ev/spawn (defer (:close conn) (serve-one conn)))))
      (eprintf "handshake failed: %s" (get (s 1) :message (s 1)))))
  # Let the last clients finish, then stop.
  (each f running (while (not= :dead (fiber/status f)) (ev/sleep 0.05)))
  (:close l))
