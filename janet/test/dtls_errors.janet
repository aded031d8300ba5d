# DTLS errors and interruptions: dtls/server reports handler errors on
# stderr unless :on-error is given, a cancelled :read (ev/with-deadline,
# ev/cancel) leaves the stream usable on both sides, and a listener on the
# IPv6 loopback tells its clients apart too.

(use ./harness)
(import mojo_tls/dtls)

(def- fast {:retransmit-min 0.1 :retransmit-max 2})

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

(deftest "dtls/server reports handler errors on stderr by default, else to :on-error"
  (def code ``
    (import mojo_tls/dtls)
    (import mojo_tls/cert)
    (def ca (cert/ca "t"))
    (def l (dtls/server "127.0.0.1" 0 (fn [s] (:read s) (error "dtls handler exploded"))
                        {:cert (cert/leaf ca "localhost")}))
    (with [c (dtls/connect "localhost" (:port l) {:ca ca :timeout 10})]
      (:write c "hi")
      # The handler's stream is closed after its error: close_notify.
      (unless (nil? (:read c nil nil 10)) (error "expected close_notify")))
    (:close l)``)
  (def [status err] (run-janet code 30))
  (check (= 0 status) "exit status %v: %s" status err)
  (check (string/find "dtls handler exploded" err) "stderr %q" err)
  (check (string/find "dtls/server handler" err) "stderr %q" err)
  (def errors (ev/chan 4))
  (def l (dtls/server "127.0.0.1" 0 (fn [s] (:read s) (error "dtls handler exploded"))
                      (merge (server-opts {:on-error (fn [e s] (ev/give errors e))}) fast)))
  (defer (:close l)
    (with [c (dtls/connect "localhost" (:port l) (client-opts fast))]
      (:write c "hi")
      (check (nil? (:read c nil nil 10))))
    (check (= "dtls handler exploded" (ev/take errors)))))

(deftest "a cancelled :read leaves a DTLS stream usable, client and server side"
  (def server-side (ev/chan 1))
  (def l (dtls/server "127.0.0.1" 0
                      (fn [s]
                        # Server side: a read cut short by a deadline.
                        (def r (protect (ev/with-deadline 0.1 (:read s))))
                        (ev/give server-side r)
                        (while (def d (:read s)) (:write s d)))
                      (merge (server-opts) fast)))
  (defer (:close l)
    (with [c (dtls/connect "localhost" (:port l) (client-opts fast))]
      (def r (protect (ev/with-deadline 0.2 (:read c))))
      (check (= [false "deadline expired"] [(r 0) (r 1)]) "with-deadline: %s" (short r))
      (check (= [false "deadline expired"] (let [v (ev/take server-side)] [(v 0) (v 1)])))
      (:write c "after the deadline")
      (check (= "after the deadline" (string (:read c))))
      (def sup (ev/chan 100))
      (for i 0 5
        (def a (ev/go (fn [] (:read c)) nil sup))
        (def b (ev/go (fn [] (:read c)) nil sup))
        (ev/sleep 0.02)
        (ev/cancel a :stop)
        (ev/cancel b :stop))
      (ev/sleep 0.05)
      (:write c "still fine")
      (check (= "still fine" (string (:read c)))))))

(defn- have-ipv6 []
  (def r (protect (net/listen "::1" 0 :datagram)))
  (when (r 0) (:close (r 1)))
  (r 0))

(deftest "a listener on ::1 serves several clients"
  (if (not (have-ipv6))
    (print "    (skipped: no IPv6 loopback)")
    (do
      (def l (dtls/server "::1" 0 (fn [s] (while (def d (:read s)) (:write s (string d " " ((:peername s) 1)))))
                          (merge (server-opts) fast)))
      (defer (:close l)
        (def done (ev/chan 3))
        (for i 0 3
          (ev/spawn
            (ev/give done
                     (protect
                       (with [c (dtls/connect "::1" (:port l) (client-opts (merge fast {:sni "localhost"})))]
                         (def port ((:localname c) 1))
                         (:write c (string "client " i))
                         (def got (string (:read c nil nil 10)))
                         (unless (= got (string "client " i " " port)) (errorf "got %q" got))
                         true)))))
        (def res (seq [_ :range [0 3]] (ev/take done)))
        (check (all |($ 0) res) "results %q" res)))))

(run-tests)
