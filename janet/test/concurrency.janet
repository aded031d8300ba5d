# Non-blocking under ev: one event loop, one server, many concurrent
# clients, and a timer fiber that must keep ticking throughout.

(use ./harness)
(import mojo_tls/tls)
(import mojo_tls/cert)

(defn- ticker
  "Start a fiber that ticks every `period` s; returns a table with :ticks,
  :max-gap (longest time between ticks) and :stop."
  [period]
  (def state @{:ticks 0 :max-gap 0 :running true})
  (ev/spawn
    (var last (os/clock :monotonic))
    (while (state :running)
      (ev/sleep period)
      (def t (os/clock :monotonic))
      (put state :max-gap (max (state :max-gap) (- t last)))
      (set last t)
      (put state :ticks (+ 1 (state :ticks)))))
  (put state :stop (fn [] (put state :running false)))
  state)

(deftest "one server fiber serves 20 concurrent clients while a timer ticks" {:timeout 240}
  (def clients 20)
  (def rounds 8)
  (def l (tls/listen "127.0.0.1" 0 (server-opts)))
  (def port (:port l))
  (def server-stats @{:accepted 0 :bytes 0})
  # The server: one accept loop fiber; each connection echoes in its own fiber.
  (def server
    (ev/spawn
      (for i 0 clients
        (def s (tls/accept l {:timeout 60}))
        (put server-stats :accepted (+ 1 (server-stats :accepted)))
        (ev/spawn
          (defer (:close s)
            (while (def d (:read s 65536))
              (put server-stats :bytes (+ (length d) (server-stats :bytes)))
              (:write s d)))))))
  # 2 ms ticks: the whole echo can take under 0.1 s on an idle machine.
  (def period 0.002)
  (def tick (ticker period))
  (def t0 (os/clock :monotonic))
  (def results (ev/chan clients))
  (for id 0 clients
    (ev/spawn
      (def r (protect
               (with [c (tls/connect "localhost" port (client-opts {:timeout 60}))]
                 (def rng (math/rng (+ 100 id)))
                 (var sent 0)
                 (for round 0 rounds
                   (def size (+ 1 (math/rng-int rng 100000)))
                   (def msg (math/rng-buffer rng size))
                   (def sum (cert/sha256 msg))
                   # Write and read concurrently: the echo starts before the write ends.
                   (def got @"")
                   (def writer (ev/spawn (:write c msg)))
                   (while (< (length got) size)
                     (unless (:read c 65536 got) (error "EOF before the echo was complete")))
                   (unless (= sum (cert/sha256 got))
                     (errorf "client %d round %d: checksum mismatch" id round))
                   (+= sent size))
                 sent)))
      (ev/give results [id r])))
  (var total 0)
  (def failures @[])
  (for i 0 clients
    (def [id [ok v]] (ev/take results))
    (if ok (+= total v) (array/push failures [id v])))
  (def elapsed (- (os/clock :monotonic) t0))
  ((tick :stop))
  (:close l)
  (check (empty? failures) "client failures: %q" failures)
  (check (= clients (server-stats :accepted)) "accepted %d" (server-stats :accepted))
  (check (= total (server-stats :bytes)) "server echoed %d of %d bytes" (server-stats :bytes) total)
  # The timer fiber ran throughout: the loop was never blocked for long.
  (def expected (/ elapsed period))
  (printf "    %d clients x %d rounds, %.1f MB echoed in %.2f s; %d ticks (max gap %.0f ms)"
          clients rounds (/ (* 2 total) 1e6) elapsed (tick :ticks) (* 1000 (tick :max-gap)))
  (check (>= (tick :ticks) 10) "the timer ticked only %d times" (tick :ticks))
  (check (>= (tick :ticks) (* 0.1 expected)) "the timer ticked %d times in %.2f s" (tick :ticks) elapsed)
  (check (< (tick :max-gap) 1.0) "the event loop stalled for %.2f s" (tick :max-gap)))

(deftest "20 concurrent handshakes through tls/server, timer ticking" {:timeout 120}
  (def l (echo-server))
  (defer (:close l)
    (def tick (ticker 0.005))
    (def done (ev/chan 20))
    (for i 0 20
      (ev/spawn
        (ev/give done
                 (protect
                   (with [c (tls/connect "127.0.0.1" (:port l) (client-opts))]
                     (def msg (string "client " i))
                     (:write c msg)
                     (= msg (string (:chunk c (length msg)))))))))
    (def res (seq [i :range [0 20]] (ev/take done)))
    ((tick :stop))
    (check (all |(and ($ 0) ($ 1)) res) "results %q" res)
    (check (pos? (tick :ticks)))))

(deftest "a slow client does not stall the accept loop of tls/server"
  (def l (echo-server {:handshake-timeout 5}))
  (defer (:close l)
    # A TCP client that never speaks TLS.
    (def idle (net/connect "127.0.0.1" (:port l)))
    (defer (:close idle)
      (with [c (tls/connect "127.0.0.1" (:port l) (client-opts {:timeout 5}))]
        (:write c "still served")
        (check (= "still served" (string (:chunk c 12))))))))

(deftest "a handshake step yields to the loop once steps have run back to back too long"
  # mojo_tls/pace (internal): after more than its budget (4 ms) of steps
  # without a turn of the loop, the next step lets other fibers run first.
  (def pace (require "mojo_tls/pace"))
  (def step ((pace 'step) :value))
  (step)
  (def ran @[])
  (def t0 (os/clock :monotonic))
  (while (< (- (os/clock :monotonic) t0) 0.02))  # 20 ms of "handshake work"
  (ev/spawn (array/push ran :other))
  (check (empty? ran))
  (step)
  (check (deep= ran @[:other]) "the other fiber did not run before the next step: %q" ran))

(deftest "50 simultaneous handshakes all complete, timer ticking" {:timeout 120}
  (def l (echo-server))
  (defer (:close l)
    (def tick (ticker 0.001))
    (def done (ev/chan 50))
    (for i 0 50
      (ev/spawn
        (ev/give done
                 (protect
                   (with [c (tls/connect "127.0.0.1" (:port l) (client-opts))]
                     (def msg (string "client " i))
                     (:write c msg)
                     (= msg (string (:chunk c (length msg)))))))))
    (def res (seq [i :range [0 50]] (ev/take done)))
    ((tick :stop))
    (printf "    50 handshakes, %d ticks, longest gap %.0f ms" (tick :ticks) (* 1000 (tick :max-gap)))
    (check (all |(and ($ 0) ($ 1)) res) "results %q" res)
    (check (pos? (tick :ticks)))))

(run-tests)
