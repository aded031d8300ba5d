# Refused connects while other TLS streams transfer. Janet's net/connect
# closed the socket of a connect refused at once but left it in its stream
# object; collecting that object later closed (and removed from the event
# loop) whatever descriptor had taken the number since: heap corruption,
# hangs and crossed streams (issue 21). janet/tools/build_janet.sh patches
# the interpreter it builds; this test runs against whichever janet runs it.

(use ./harness)
(import mojo_tls/tls)

(def- seconds (scan-number (or (os/getenv "MOJO_TLS_REFUSED_SECONDS") "6")))
(def- workers 3)

(deftest "refused connects in a loop while other streams transfer" {:timeout 90}
  (def l (echo-server))
  (defer (:close l)
    (def closed-port (free-port))
    (def stop-at (+ (os/clock :monotonic) seconds))
    (def done (ev/chan (+ 1 workers)))
    (var refused 0)
    (var echoed 0)
    (ev/spawn
      (def r (protect
               (while (< (os/clock :monotonic) stop-at)
                 (expect-error :connect (tls/connect "127.0.0.1" closed-port (client-opts {:timeout 5})))
                 (++ refused)
                 (when (zero? (% refused 20)) (gccollect)))))
      (ev/give done r))
    (for w 0 workers
      (ev/spawn
        (def r (protect
                 (while (< (os/clock :monotonic) stop-at)
                   (with [c (tls/connect "localhost" (:port l) (client-opts {:timeout 10}))]
                     (for i 0 20
                       (def msg (pattern (+ 100 (* 97 i)) (+ 1 w i)))
                       (:write c msg)
                       (def back (:chunk c (length msg)))
                       (unless (= (string back) (string msg))
                         (error (string/format "worker %d got bytes it did not send" w)))
                       (++ echoed))))))
        (ev/give done r)))
    (for _ 0 (+ 1 workers)
      (def r (ev/take done))
      (check (r 0) "%s" (short (r 1))))
    (check (> refused 50) "only %d refused connects" refused)
    (check (> echoed 50) "only %d echoes" echoed)))

(def- have-valgrind
  (= 0 (try (os/execute ["valgrind" "--version"] :px {:out (file/open "/dev/null" :w)})
         ([_] 1))))

(deftest "the same under valgrind: no invalid access" {:timeout 300}
  (cond
    (os/getenv "MOJO_TLS_UNDER_VALGRIND") nil
    (not have-valgrind) (print "    (skipped: no valgrind)")
    (do
      (def env (merge (os/environ) {"MOJO_TLS_UNDER_VALGRIND" "1" "MOJO_TLS_REFUSED_SECONDS" "3"
                                    "JANET_TEST_FILTER" "refused connects in a loop"}))
      (def p (os/spawn ["valgrind" "-q" "--error-exitcode=99" (dyn :executable) (dyn :current-file)]
                       :pe (merge env {:out :pipe :err :pipe})))
      (def out @"")
      (ev/spawn (while (ev/read (p :out) 4096 out)))
      (ev/spawn (while (ev/read (p :err) 4096 out)))
      (def exit (ev/chan 1))
      (ev/spawn (ev/give exit (os/proc-wait p)))
      (def timer (ev/chan 1))
      (ev/spawn (ev/sleep 240) (ev/give timer :timeout))
      (def [_ ch code] (ev/select exit timer))
      (when (= ch timer)
        (protect (os/proc-kill p true))
        (error "valgrind run took over 240 s"))
      (check (= 0 code) "exit status %v under valgrind:\n%s" code out)
      (check (string/find "RESULT 1 0" out) "no result under valgrind:\n%s" out))))

(run-tests)
