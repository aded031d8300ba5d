# benches/bulk.janet — the Janet package under ev, one process, loopback.
#
#   bulk BYTES   echo BYTES through one connection (client writer and reader
#                fibers, a server fiber echoing) over plain `net` and over
#                mojo_tls/tls; prints net_MiBps, tls_MiBps, tls_vs_net,
#                the same from process CPU time (*_cpu_MiBps: steadier on a
#                loaded machine) and what was negotiated
#   stall N      N clients handshake at once with a tls/server in the same
#                loop while a ticker fiber sleeps 1 ms at a time; prints
#                stall_ms (the longest gap between ticks) and hs_s (the time
#                for all N)
# Run: MOJO_TLS_LIBRARY=<dist>/lib/libmojo_tls.so.1 janet benches/bulk.janet bulk 67108864
(import ../janet/mojo_tls/tls)
(import ../janet/mojo_tls/cert)

(def- chunk 65536)

(defn- now [] (os/clock :monotonic))
(defn- cpu [] (os/clock :cputime))

# Process CPU seconds of each echo-run, in order; the TLS client's
# negotiated version and suite.
(def- cpu-s @[])
(var- negotiated nil)

(defn- echo-run
  ``Echo `total` bytes: a client writes them in `chunk` writes while another
  fiber reads them back; seconds from the first write to the last byte.
  `connect` gives the client stream, `serve` runs the server side on one.``
  [listen-fn accept-fn connect-fn total]
  (def l (listen-fn))
  (def port (l :port))
  (def done (ev/chan 1))
  (ev/go (fn []
           (def s (accept-fn l))
           (def buf @"")
           (while (do (buffer/clear buf) (:read s chunk buf))
             (:write s buf))
           (:close s)))
  (def c (connect-fn port))
  (def data (string/repeat "x" chunk))
  (def t0 (now))
  (def c0 (cpu))
  (ev/go (fn []
           (var left total)
           (while (pos? left)
             (def k (min left chunk))
             (:write c (if (= k chunk) data (string/slice data 0 k)))
             (-= left k))))
  (ev/go (fn []
           (var got 0)
           (def buf @"")
           (while (< got total)
             (buffer/clear buf)
             (def r (:read c chunk buf))
             (unless r (error "early EOF"))
             (+= got (length buf)))
           (ev/give done (now))))
  (def t1 (ev/take done))
  (array/push cpu-s (- (cpu) c0))
  (when (get c :cipher)
    (set negotiated (string/format "%s %s %d-bit" (:version c) (:cipher c) (:cipher-bits c))))
  (:close c)
  ((l :close-fn))
  (- t1 t0))

(defn- pki []
  (def ca (cert/ca "bench CA" {:days 1}))
  [ca (cert/leaf ca "localhost" {:sans ["localhost" "127.0.0.1"] :days 1})])

(defn- bulk [total]
  (def [ca leaf] (pki))
  (def net-s
    (echo-run (fn [] (def st (net/listen "127.0.0.1" 0))
                @{:port ((net/localname st) 1) :st st :close-fn |(:close st)})
              (fn [l] (net/accept (l :st)))
              (fn [port] (net/connect "127.0.0.1" port))
              total))
  (def scfg (tls/config {:server true :cert leaf}))
  (def ccfg (tls/config {:ca ca}))
  (def tls-s
    (echo-run (fn [] (def tl (tls/listen "127.0.0.1" 0 {:config scfg}))
                @{:port (:port tl) :tl tl :close-fn |(:close tl)})
              (fn [l] (tls/accept (l :tl)))
              (fn [port] (tls/connect "localhost" port {:config ccfg}))
              total))
  (def mib (/ total 1048576))
  (printf "net_MiBps %.1f" (/ mib net-s))
  (printf "tls_MiBps %.1f" (/ mib tls-s))
  (printf "tls_vs_net %.3f" (/ net-s tls-s))
  (printf "net_cpu_MiBps %.1f" (/ mib (cpu-s 0)))
  (printf "tls_cpu_MiBps %.1f" (/ mib (cpu-s 1)))
  (printf "negotiated %s" negotiated))

(defn- stall [n]
  (def [ca leaf] (pki))
  (def scfg (tls/config {:server true :cert leaf}))
  (def ccfg (tls/config {:ca ca}))
  (def l (tls/server "127.0.0.1" 0 (fn [s] (:write s (:read s 1))) {:config scfg}))
  (def port (:port l))
  (var worst 0)
  (var ticking true)
  (def ticker (ev/go (fn []
                       (var last (now))
                       (while ticking
                         (ev/sleep 0.001)
                         (def t (now))
                         (set worst (max worst (- t last)))
                         (set last t)))))
  (ev/sleep 0.05)
  (set worst 0)
  (def done (ev/chan n))
  (def t0 (now))
  (for i 0 n
    (ev/go (fn []
             (def s (tls/connect "localhost" port {:config ccfg :timeout 60}))
             (:write s "x")
             (:read s 1)
             (:close s)
             (ev/give done true))))
  (for i 0 n (ev/take done))
  (def t1 (now))
  (set ticking false)
  (ev/sleep 0.01)
  (:close l)
  (printf "stall_ms %.1f" (* 1000 worst))
  (printf "hs_s %.3f" (- t1 t0)))

(defn main [& args]
  (def mode (get args 1 "bulk"))
  (def arg (scan-number (get args 2 "0")))
  (case mode
    "bulk" (bulk (if (pos? arg) arg (* 64 1048576)))
    "stall" (stall (if (pos? arg) arg 50))
    (error (string "unknown mode " mode))))
