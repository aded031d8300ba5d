# Streams never see each other's plaintext. A read that has to send
# something (here the refusal of a TLS 1.2 renegotiation that openssl
# s_server asks for, sent with application data) yields to the event loop
# while other streams read; what it decrypted must still be its own (issue
# 21: a buffer shared by all streams returned another stream's bytes).

(use ./harness)
(import mojo_tls/tls)

(def- have-openssl
  (= 0 (try (os/execute ["openssl" "version"] :px {:out (file/open "/dev/null" :w)})
         ([_] 1))))

(def- streams 4)
(def- rounds 8)

(defn- payload [id round]
  (string (string/repeat (string/from-bytes (+ 65 (% (+ id (* 5 round)) 26))) 48) "\n"))

(defn- s-server
  "openssl s_server (TLS 1.2, our test certificate) on a free port: [proc port]."
  []
  (def cert (temp-file "isolation.pem" (server-cert :cert-pem)))
  (def key (temp-file "isolation.key" (server-cert :key-pem)))
  (def p (os/spawn ["openssl" "s_server" "-accept" "127.0.0.1:0" "-tls1_2"
                    "-cert" cert "-key" key]
                   :p {:in :pipe :out :pipe :err (file/open "/dev/null" :w)}))
  (def out @"")
  (def deadline (+ (os/clock :monotonic) 10))
  (while (not (string/find "ACCEPT" out))
    (when (> (os/clock :monotonic) deadline) (os/proc-kill p true) (error "s_server did not start"))
    (ev/read (p :out) 256 out 10))
  # Keep draining its output so it never blocks on a full pipe.
  (ev/spawn (while (ev/read (p :out) 4096)))
  [p (scan-number ((peg/match ~(* (thru "ACCEPT ") (thru ":") (<- :d+)) out) 0))])

(deftest "a read that flushes and yields keeps its own plaintext (renegotiation refused)" {:timeout 120}
  (if (not have-openssl)
    (print "    (skipped: no openssl command)")
    (do
      (def servers (array/slice (seq [_ :range [0 streams]] (s-server))))
      (defer (each [p _] servers (protect (os/proc-kill p true)))
        (def bad @[])
        (var complete 0)
        (for round 0 rounds
          (def ready (ev/chan streams))
          (def go (seq [_ :range [0 streams]] (ev/chan 1)))
          (def done (ev/chan streams))
          (for id 0 streams
            (def [p port] (servers id))
            (ev/spawn
              (var signalled false)
              (def r (protect
                       (with [c (tls/connect "localhost" port (client-opts))]
                         (set signalled true)
                         (ev/give ready true)
                         (ev/take (go id))
                         # s_server's "r" sends a HelloRequest; the line after
                         # it goes out as data behind it.
                         (:write (p :in) "r\n")
                         (ev/sleep 0.1)
                         (:write (p :in) (payload id round))
                         # Read only once both are here (alone, the refusal
                         # makes s_server hang up before the data).
                         (ev/sleep 0.2)
                         (string (:chunk c (length (payload id round)))))))
              (unless signalled (ev/give ready false))
              (ev/give done [id r])))
          (for _ 0 streams (ev/take ready))

          (each g go (ev/give g true))
          (for _ 0 streams
            (def [id [ok got]] (ev/take done))

            (cond
              (= got (payload id round)) (++ complete)
              # A slow s_server may hang up first, or quit: inconclusive, not wrong.
              (= :connect (tls/error-name got))
              (let [[p _] (servers id)]
                (protect (os/proc-kill p true))
                (put servers id (s-server)))
              (and (not ok) (tls/error-code got)) nil
              (array/push bad [id round got]))))
        (check (empty? bad) "%d of %d reads returned another stream's plaintext (or failed), e.g. %s"
               (length bad) (* streams rounds) (short (first bad)))
        (check (>= complete (/ (* streams rounds) 2)) "only %d of %d reads completed"
               complete (* streams rounds))))))

(run-tests)
