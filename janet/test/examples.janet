# The programs in examples/janet run and do what they say.

(use ./harness)

(def- examples-dir
  (let [here (dyn :current-file)
        dir (string/slice here 0 (last (string/find-all "/" here)))]
    (string dir "/../../examples/janet")))

(defn- run
  "Run `janet <example> args...` (same interpreter and JANET_PATH) in `cwd`;
  returns [exit-code stdout stderr], killing it after `timeout` s."
  [cwd timeout example & args]
  (def p (os/spawn [(dyn :executable) (string examples-dir "/" example) ;args] :p
                   {:out :pipe :err :pipe :cd cwd}))
  (def out @"")
  (def err @"")
  (def readers [(ev/spawn (while (ev/read (p :out) 4096 out)))
                (ev/spawn (while (ev/read (p :err) 4096 err)))])
  (def exit (ev/chan 1))
  (ev/spawn (ev/give exit (os/proc-wait p)))
  (def timer (ev/chan 1))
  (ev/spawn (ev/sleep timeout) (ev/give timer :timeout))
  (def [_ ch code] (ev/select exit timer))
  (when (= ch timer)
    (protect (os/proc-kill p))
    (ev/take exit))
  (ev/sleep 0.05)
  (protect (os/proc-close p))
  [(if (= ch timer) :timeout code) (string out) (string err)])

(deftest "examples/janet/concurrent.janet"
  (def [code out err] (run (temp-dir) 60 "concurrent.janet" "10" "3"))
  (check (= 0 code) "exit %v: %s" code err)
  (check (string/find "10 clients x 3 rounds" out) "output %q" out))

(deftest "examples/janet/starttls.janet"
  (def [code out err] (run (temp-dir) 30 "starttls.janet"))
  (check (= 0 code) "exit %v: %s" code err)
  (check (string/find "secret received: the password is swordfish" out) "output %q" out))

(deftest "examples/janet/dtls_echo.janet"
  (def [code out err] (run (temp-dir) 60 "dtls_echo.janet" "4" "5"))
  (check (= 0 code) "exit %v: %s" code err)
  (check (string/find "4 clients x 5 datagrams echoed" out) "output %q" out)
  (check (= 4 (length (string/find-all "DTLSv1.2" err))) "server log %q" err))

(deftest "examples/janet/server.janet + client.janet"
  (def dir (temp-dir))
  (def p (os/spawn [(dyn :executable) (string examples-dir "/server.janet") "--port" "0" "--max-clients" "1"] :p
                   {:out :pipe :err :pipe :cd dir}))
  (def exit (ev/chan 1))
  (ev/spawn (ev/give exit (os/proc-wait p)))
  (defer (do (protect (os/proc-kill p)) (protect (os/proc-close p)))
    (def line @"")
    (while (not (string/find "\n" line))
      (unless (ev/read (p :out) 100 line 20) (break)))
    (def m (peg/match ~(* "listening on " (thru ":") (<- :d+)) line))
    (check m "server printed %q" line)
    (def [code out err] (run dir 30 "client.janet" "localhost" (m 0) "--cafile" "ca.pem" "--send" "ping\\n"))
    (check (= 0 code) "client exit %v: %s" code err)
    (check (= "ping\n" out) "client printed %q" out)
    (def timer (ev/chan 1))
    (ev/spawn (ev/sleep 20) (ev/give timer :timeout))
    (def [_ ch scode] (ev/select exit timer))
    (check (and (= ch exit) (= 0 scode)) "server exit %v" scode)))

(deftest "no example writes to a socket with ev/write (SIGPIPE)"
  # ev/write is write(2): to a peer that has gone away it raises SIGPIPE,
  # which kills the process; a socket's :write method (net/write) sends
  # with MSG_NOSIGNAL. The examples only open sockets and pipes of openssl.
  (each name (os/dir examples-dir)
    (when (string/has-suffix? ".janet" name)
      (def text (slurp (string examples-dir "/" name)))
      (check (not (string/find "(ev/write" text)) "%s uses ev/write" name))))

(run-tests)
