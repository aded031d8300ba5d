# How errors reach the user: an uncaught error prints its message (not
# "<struct 0x...>"), tls/server reports handler errors on stderr unless
# :on-error is given, and a server without a certificate fails at listen.

(use ./harness)
(import mojo_tls/tls)

(defn- run-janet
  "Run `janet -e code` (same interpreter and JANET_PATH): [exit-code stderr]."
  [code timeout]
  (def p (os/spawn [(dyn :executable) "-e" code] :p {:err :pipe :out :pipe}))
  (def err @"")
  (ev/spawn (while (ev/read (p :out) 4096)))
  (ev/spawn (while (ev/read (p :err) 4096 err)))
  (def exit (ev/chan 1))
  (ev/spawn (ev/give exit (os/proc-wait p)))
  (def timer (ev/chan 1))
  (ev/spawn (ev/sleep timeout) (ev/give timer :timeout))
  (def [_ ch status] (ev/select exit timer))
  (when (= ch timer) (protect (os/proc-kill p true)) (error "janet -e timed out"))
  (ev/sleep 0.05)
  [status (string err)])

(defn- ours? []
  (string/has-suffix? "/target/janet/bin/janet" (os/realpath (dyn :executable))))

(deftest "an uncaught error prints its message"
  (if (not (ours?))
    (print "    (skipped: only the interpreter build_janet.sh builds prints :message)")
    (do
      (def [status err] (run-janet "(import mojo_tls/tls) (tls/connect \"localhost\" 1 {:timeout -1})" 20))
      (check (not= 0 status) "exit status %v" status)
      (check (string/find "error: connect: timeout must be nil or a non-negative number" err) "stderr %q" err)
      (check (not (string/find "<struct" err)) "stderr %q" err))))

(deftest "tls/server reports handler errors on stderr by default"
  (def code ``
    (import mojo_tls/tls)
    (import mojo_tls/cert)
    (def ca (cert/ca "t"))
    (def l (tls/server "127.0.0.1" 0 (fn [s] (:read s 10) (error "handler exploded"))
                       {:cert (cert/leaf ca "localhost")}))
    (with [c (tls/connect "localhost" (:port l) {:ca ca :timeout 10})]
      (:write c "hi")
      (:read c 10))
    (:close l)``)
  (def [status err] (run-janet code 30))
  (check (= 0 status) "exit status %v: %s" status err)
  (check (string/find "handler exploded" err) "stderr %q" err)
  # With :on-error, it gets the error and nothing is printed.
  (def errors (ev/chan 4))
  (def l (tls/server "127.0.0.1" 0 (fn [s] (:read s 10) (error "handler exploded"))
                     (server-opts {:on-error (fn [e s] (ev/give errors e))})))
  (defer (:close l)
    (with [c (tls/connect "localhost" (:port l) (client-opts))]
      (:write c "hi")
      (:read c 10))
    (check (= "handler exploded" (ev/take errors)))))

(deftest "a server without a certificate fails at listen"
  (def e (expect-error :invalid-argument (tls/listen "127.0.0.1" 0 {})))
  (check (string/find "needs a certificate" (e :message)) "message %v" (e :message))
  (expect-error :invalid-argument (tls/listen "127.0.0.1" 0 {:config (tls/config {:server true})}))
  (expect-error :invalid-argument (tls/server "127.0.0.1" 0 (fn [s]) {}))
  (def tr (net/listen "127.0.0.1" 0))
  (defer (:close tr)
    (expect-error :invalid-argument (tls/upgrade tr nil {:server true})))
  # With one it listens.
  (with [l (tls/listen "127.0.0.1" 0 (server-opts))]
    (check (pos? (:port l)))))

(run-tests)
