# Streams (and configurations) dropped without :close are freed once
# collected: before, each kept its native connection (~9.6 KiB) until the
# process exited.

(use ./harness)
(import mojo_tls/tls)
(import mojo_tls/reclaim)

(defn- rss-kib []
  (def status (slurp "/proc/self/status"))
  (def m (peg/match ~(* (thru "VmRSS:") :s* (<- :d+)) status))
  (when m (scan-number (m 0))))

(defn- leak-batch [port n]
  # Every other client has its own configuration, dropped with it.
  (def shared (tls/config (client-opts)))
  (for i 0 n
    (def c (tls/connect "localhost" port (if (even? i) {:config shared} (client-opts))))
    (:write c "x")))

(deftest "streams dropped without :close are freed once collected" {:timeout 120}
  (def l (tls/server "127.0.0.1" 0 (fn [s] (:read s 1)) (server-opts)))
  (defer (:close l)
    (def port (:port l))
    (def n 150)
    (for _ 0 2
      (leak-batch port n)
      (gccollect)
      (reclaim/sweep))
    (def base-count (reclaim/live-count))
    (def base-rss (rss-kib))
    (for _ 0 3
      (leak-batch port n)
      (gccollect)
      (reclaim/sweep))
    (def count (reclaim/live-count))
    (def rss (rss-kib))
    (print (string/format "        %d dropped streams: %d native handles live (was %d), RSS %+d KiB"
                          (* 3 n) count base-count (- rss base-rss)))
    (check (< count (+ base-count 20)) "%d native handles still live" count)
    # Unfreed, each keeps about 16 KiB here (7 MiB in all); freed, the
    # growth is the noise of the heap, well under half of that.
    (when base-rss
      (check (< (- rss base-rss) (* 3 n 7)) "RSS grew by %d KiB" (- rss base-rss)))))

(run-tests)
