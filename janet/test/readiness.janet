# Readiness (issue 19): (:pending s) counts every byte the library holds,
# and a reader in an ev loop that reads, then drains while :pending > 0,
# never stalls. (:read asks the library before it waits, so the bulk
# tests passed before the fix too; the two :pending tests did not.)
#
# Signals: a TLS stream never waits inside the library (memory mode over
# Janet's own streams), so MOJO_TLS_ERR_INTERRUPTED cannot happen here;
# the mapping of the code is checked against the library.

(use ./harness)
(import mojo_tls/tls)
(import mojo_tls/native :as n)
(import mojo_tls/ffi :as f)

(defn- pair
  "A connected [client server] over 127.0.0.1."
  [&opt extra]
  (def l (tls/listen "127.0.0.1" 0 (server-opts extra)))
  (defer (:close l)
    (def ch (ev/chan 1))
    (ev/spawn (ev/give ch (tls/accept l)))
    (def c (tls/connect "localhost" (:port l) (client-opts extra)))
    [c (ev/take ch)]))

(deftest "pending counts the records behind the one being read"
  (def [c s] (pair))
  (defer (do (:close c) (:close s))
    (def data (string (buffer/new-filled 40000 (chr "x"))))
    (:write s data)       # three records, sent in one go
    (ev/sleep 0.2)        # all of them in the client's socket
    (def got (:read c 100))
    (check (= 100 (length got)) "read %d" (length got))
    # exact: everything decrypted ahead counts, not just the first record
    (check (= 39900 (:pending c)) "pending %d, expected 39900" (:pending c))
    (def rest (:chunk c 39900 nil 5))
    (check (= 39900 (length rest)))
    (check (= 0 (:pending c)))))

(deftest "the close_notify behind the last bytes counts as 1"
  (def [c s] (pair))
  (defer (do (:close c) (:close s))
    (:write s "bye")
    (:close s)            # close_notify right behind the data
    (ev/sleep 0.2)
    (check (= "bye" (string (:read c 3))))
    (check (= 1 (:pending c)) "pending %d, expected 1" (:pending c))
    (check (nil? (:read c 10 nil 1)) "EOF without waiting")
    (check (= 0 (:pending c)))))

(def- mib 4)

(defn- endpoint
  ``Write `mib` MiB of `data` in random pieces in one fiber, read the peer's
  in another (read, then while :pending > 0); a read that waits 5 s with
  data missing raises :timeout (a stall). Returns a channel that gets
  [received-bytes] when both are done.``
  [s data seed]
  (def done (ev/chan 2))
  (def rng (math/rng seed))
  (ev/spawn
    (var off 0)
    (def total (length data))
    (while (< off total)
      (def k (min (+ 1 (math/rng-int rng 65536)) (- total off)))
      (:write s (string/slice data off (+ off k)))
      (+= off k))
    (ev/give done :written))
  (ev/spawn
    (def rx @"")
    (def want (* mib 1024 1024))
    (while (< (length rx) want)
      (def before (length rx))
      (:read s 16384 rx 5)
      (while (pos? (:pending s))
        (:read s 16384 rx 5))
      (check (> (length rx) before)))
    (ev/give done rx))
  done)

(defn- bulk [extra]
  (def [c s] (pair extra))
  (defer (do (:close c) (:close s))
    (def rng (math/rng 19))
    (def c-data (string (math/rng-buffer rng (* mib 1024 1024))))
    (def s-data (string (math/rng-buffer rng (* mib 1024 1024))))
    (def dc (endpoint c c-data 1))
    (def ds (endpoint s s-data 2))
    (var c-rx nil)
    (var s-rx nil)
    (repeat 2 (let [r (ev/take dc)] (when (buffer? r) (set c-rx r))))
    (repeat 2 (let [r (ev/take ds)] (when (buffer? r) (set s-rx r))))
    (check (= (n/sha256 s-data) (n/sha256 c-rx)) "client received other bytes")
    (check (= (n/sha256 c-data) (n/sha256 s-rx)) "server received other bytes")))

(deftest "ev: 4 MiB both ways, random writes, fast record layer" {:timeout 120}
  (bulk {}))

(deftest "ev: 4 MiB both ways, random writes, Mbed TLS record layer" {:timeout 120}
  (bulk {:fast-record-layer false}))

(deftest "MOJO_TLS_ERR_INTERRUPTED has its name"
  (check (= -21 f/MOJO_TLS_ERR_INTERRUPTED))
  (def e (protect (n/fail f/MOJO_TLS_ERR_INTERRUPTED "x" "test")))
  (check (= :interrupted ((e 1) :name)) "name %v" ((e 1) :name)))

(run-tests)
