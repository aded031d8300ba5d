# Many TLS connections in one Janet event loop, without threads: a server
# and N clients (each in its own fiber) exchange checksummed messages while
# a timer fiber keeps ticking, showing that TLS never blocks the loop.
# Self-contained (generates its certificates); loopback only.
#
#   janet concurrent.janet [clients (20)] [rounds (10)]

(import mojo_tls/tls)
(import mojo_tls/cert)

(defn main [_ &opt clients rounds]
  (def clients (scan-number (or clients "20")))
  (def rounds (scan-number (or rounds "10")))
  (def ca (cert/ca "demo CA"))
  (def leaf (cert/leaf ca "localhost"))
  # The server: tls/server runs the handler in a new fiber per client.
  (def l (tls/server "127.0.0.1" 0
                     (fn [s] (while (def d (:read s 65536)) (:write s d)))
                     {:cert leaf :timeout 30}))
  (var ticks 0)
  (var ticking true)
  (ev/spawn (while ticking (ev/sleep 0.01) (++ ticks)))
  (def t0 (os/clock :monotonic))
  (def done (ev/chan clients))
  (for id 0 clients
    (ev/spawn
      (ev/give done
               (protect
                 (with [c (tls/connect "localhost" (:port l) {:ca ca :timeout 30})]
                   (def rng (math/rng id))
                   (var bytes 0)
                   (repeat rounds
                     (def msg (math/rng-buffer rng (+ 1 (math/rng-int rng 50000))))
                     (:write c msg)
                     (def back (:chunk c (length msg)))
                     (assert (= (cert/sha256 msg) (cert/sha256 back)) "echo mismatch")
                     (+= bytes (length msg)))
                   bytes)))))
  (var total 0)
  (var failed 0)
  (repeat clients
    (def [ok v] (ev/take done))
    (if ok (+= total v) (do (++ failed) (eprint "client failed: " (get v :message v)))))
  (def dt (- (os/clock :monotonic) t0))
  (set ticking false)
  (:close l)
  (printf "%d clients x %d rounds: %.1f MB echoed and checksummed in %.2f s; timer ticked %d times"
          clients rounds (/ total 1e6) dt ticks)
  (when (or (pos? failed) (zero? ticks)) (os/exit 1)))
