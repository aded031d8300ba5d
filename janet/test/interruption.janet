# Interrupted operations: a :read cancelled by ev/with-deadline or ev/cancel
# leaves the stream as usable as a plain net stream; a :write that times
# out (part of a record may have been sent) makes every later operation
# fail with a clear error instead of sending into a corrupted stream.

(use ./harness)
(import mojo_tls/tls)

(deftest "a :read cancelled by ev/with-deadline or ev/cancel leaves the stream usable"
  (def l (echo-server))
  (defer (:close l)
    (with [c (tls/connect "localhost" (:port l) (client-opts))]
      # The same as a plain net stream: the canceller's error comes through.
      (def r (protect (ev/with-deadline 0.2 (:read c 10))))
      (check (= [false "deadline expired"] [(r 0) (r 1)]) "with-deadline: %s" (short r))
      (:write c "after the deadline")
      (check (= "after the deadline" (string (:chunk c 18))))
      # Supervised, so the cancelled tasks do not print their errors.
      (def sup (ev/chan 100))
      (def reader (ev/go (fn [] (:read c 10)) nil sup))
      (ev/sleep 0.1)
      (ev/cancel reader :stop)
      (ev/sleep 0.05)
      (check (= :error (fiber/status reader)) "reader %v" (fiber/status reader))
      (:write c "after ev/cancel")
      (check (= "after ev/cancel" (string (:chunk c 15))))
      # Several times in a row, and a reader waiting behind another.
      (for i 0 5
        (def a (ev/go (fn [] (:read c 10)) nil sup))
        (def b (ev/go (fn [] (:read c 10)) nil sup))
        (ev/sleep 0.02)
        (ev/cancel a :stop)
        (ev/cancel b :stop))
      (ev/sleep 0.05)
      (:write c "still fine")
      (check (= "still fine" (string (:chunk c 10)))))))

(deftest "a :write that times out fails every later operation"
  # A server that reads nothing until told to, then counts what it gets.
  (def release (ev/chan 1))
  (def received (ev/chan 1))
  (def l (tls/server "127.0.0.1" 0
                     (fn [s]
                       (ev/take release)
                       (var n 0)
                       (while (def d (protect (:read s 65536 nil 2)))
                         (unless (and (d 0) (d 1)) (break))
                         (+= n (length (d 1))))
                       (ev/give received n))
                     (server-opts)))
  (defer (:close l)
    (with [c (tls/connect "localhost" (:port l) (client-opts))]
      (def big (pattern (* 32 1024 1024)))
      (def e (expect-error :timeout (:write c big 0.5)))
      (check (= ":write" (e :context)) "context %v" (e :context))
      # Every later operation fails, clearly, at once.
      (def e2 (expect-error :io (:write c "more")))
      (check (string/find "timed out" (e2 :message)) "message %v" (e2 :message))
      (expect-error :io (:read c 10))
      (expect-error :io (:chunk c 10))
      (:close c)
      (expect-error :closed (:write c "x")))
    (ev/give release true)
    (def n (ev/take received))
    (check (< n (* 32 1024 1024)) "the server got %d bytes" n)))

(run-tests)
