# DTLS through a lossy relay: a fiber on 127.0.0.1 between each client and
# our server drops ~20 % of the datagrams in each direction, duplicates
# ~15 % and delays ~25 % by 5-40 ms (reordering them). Handshakes must
# complete through retransmissions; every datagram that arrives must be
# intact and none may arrive twice (anti-replay); once the relay stops
# losing, every datagram must arrive.

(use ./harness)
(import mojo_tls/dtls)
(import mojo_tls/cert)

(def- fast {:retransmit-min 0.05 :retransmit-max 8})

(defn- relay
  "A lossy relay to 127.0.0.1:`server-port`; returns its state table (:port, :lossy, counters)."
  [server-port seed]
  (def sock (net/listen "127.0.0.1" 0 :datagram))
  (def server-addr (let [a (net/address "127.0.0.1" server-port :datagram)]
                      (if (indexed? a) (first a) a)))
  (def st @{:sock sock :port ((net/localname sock) 1) :lossy true
            :dropped 0 :duplicated 0 :delayed 0 :seen 0})
  (def rng (math/rng seed))
  # One sender fiber: a Janet stream has one pending writer at a time.
  (def out (ev/chan 1024))
  (defn bump [k] (put st k (+ 1 (st k))))
  (put st :sender (ev/spawn (while (def [addr d] (ev/take out)) (protect (net/send-to sock addr d)))))
  (put st :receiver
       (ev/spawn
         (def buf @"")
         (var client nil)
         (while (not (st :closed))
           (buffer/clear buf)
           (def r (protect (net/recv-from sock 65536 buf)))
           (when (and (r 0) (pos? (length buf)))
             (def from (r 1))
             (def to (if (= server-port ((net/address-unpack from) 1))
                       client
                       (do (set client from) server-addr)))
             (def d (string buf))
             (bump :seen)
             (when to
               (cond
                 (not (st :lossy)) (ev/give out [to d])
                 (< (math/rng-uniform rng) 0.2) (bump :dropped)
                 (do
                   (def copies (if (< (math/rng-uniform rng) 0.15) (do (bump :duplicated) 2) 1))
                   (for _ 0 copies
                     (if (< (math/rng-uniform rng) 0.25)
                       (let [pause (+ 0.005 (* 0.035 (math/rng-uniform rng)))]
                         (bump :delayed)
                         (ev/spawn (ev/sleep pause) (unless (st :closed) (ev/give out [to d]))))
                       (ev/give out [to d]))))))))))
  (put st :close (fn []
                   (put st :closed true)
                   (ev/chan-close out)
                   (:close sock)))
  st)

(defn- message [num rng]
  (def body (cert/hex (math/rng-buffer rng (+ 1 (math/rng-int rng 300)))))
  (string num "|" body "|" (cert/hex (cert/sha256 (string num "|" body)))))

(defn- parse [d]
  ``[seq intact?] of a datagram made by `message`.``
  (def [num body sum] (string/split "|" d))
  [(scan-number num) (= sum (cert/hex (cert/sha256 (string num "|" body))))])

(deftest "3 clients through lossy relays: handshakes complete, nothing twice, all once lossless" {:timeout 180}
  (def server-seen @{})
  (def server-errors @[])
  (def l (dtls/server "127.0.0.1" 0
                      (fn [s]
                        (def seen @{})
                        (put server-seen s seen)
                        (while (def d (:read s))
                          (def [num ok] (parse (string d)))
                          (unless ok (array/push server-errors [:corrupt num]))
                          (when (seen num) (array/push server-errors [:twice num]))
                          (put seen num true)
                          (:write s d)))
                      (merge {:cert server-cert :handshake-timeout 60} fast)))
  (defer (:close l)
    (def results (ev/chan 3))
    (def relays (seq [i :range [0 3]] (relay (:port l) (+ 1 i))))
    (each [i r] (pairs relays)
      (ev/spawn
        (ev/give
          results
          (protect
            (with [c (dtls/connect "localhost" (r :port) (merge {:ca ca :timeout 60} fast))]
              (def rng (math/rng (+ 50 i)))
              (def got @{})
              (def problems @[])
              (defn take-echoes [quiet]
                # Read echoes until none arrives for `quiet` seconds.
                (forever
                  (def d (try (:read c nil nil quiet) ([e] (if (= :timeout (dtls/error-name e)) nil (error e)))))
                  (unless d (break))
                  (def [num ok] (parse (string d)))
                  (unless ok (array/push problems [:corrupt num]))
                  (when (got num) (array/push problems [:twice num]))
                  (put got num true)))
              # Lossy phase: 150 datagrams, echoes read concurrently.
              (def reader (ev/spawn (take-echoes 1.5)))
              (for n 0 150
                (:write c (message n rng))
                (ev/sleep 0.002))
              (while (not= :dead (fiber/status reader)) (ev/sleep 0.05))
              (def lossy-count (length got))
              # Lossless phase: every one of 50 must come back.
              (put r :lossy false)
              (ev/sleep 0.1)
              (for n 1000 1050
                (:write c (message n rng)))
              (take-echoes 1.5)
              (def missing (seq [n :range [1000 1050] :unless (got n)] n))
              [lossy-count missing problems])))))
    (def res (seq [_ :range [0 3]] (ev/take results)))
    (each r relays ((r :close)))
    (each [i [ok v]] (pairs res)
      (check ok "client %d: %q" i v)
      (def [lossy-count missing problems] v)
      (def r (relays i))
      (printf "    client %d: %d datagrams relayed (%d dropped, %d duplicated, %d delayed); %d of 150 echoes through loss, %d of 50 without"
              i (r :seen) (r :dropped) (r :duplicated) (r :delayed) lossy-count (- 50 (length missing)))
      (check (empty? problems) "client %d: %q" i problems)
      (check (empty? missing) "client %d: lossless datagrams missing %q" i missing)
      (check (> lossy-count 30) "client %d: only %d echoes through loss" i lossy-count)
      (check (and (pos? (r :dropped)) (pos? (r :duplicated)) (pos? (r :delayed))) "relay %d did nothing" i))
    (check (empty? server-errors) "server: %q" server-errors)
    (check (= 3 (length server-seen)) "the server saw %d peers" (length server-seen))))

(run-tests)
