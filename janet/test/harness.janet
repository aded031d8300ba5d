# A small test harness for janet/test/*.janet (run by janet/run_tests.sh).
#
#   (use ./harness)
#   (deftest "name" body...)      register a test
#   (run-tests)                   run them; prints "ok name" / "FAIL name"
#                                 and a final "RESULT <passed> <failed>" line
#
# Each test runs in its own ev task with a time limit (default 60 s, or
# :timeout in (deftest "name" {:timeout 30} ...)); a test that runs out of
# time is cancelled and fails. Helpers: (expect-error code-keyword body...),
# (check cond fmt args...), temp files, free ports; default-version says
# what default settings negotiate.

(import mojo_tls/tls)
(import mojo_tls/cert)

(def- tests @[])

(defn register-test
  "Register a test function (see deftest)."
  [name opts f]
  (array/push tests [name opts f]))

(defmacro deftest
  "Register a test: (deftest name [opts-struct] & body)."
  [name & body]
  (def [opts body] (if (and (struct? (first body)) (> (length body) 1))
                     [(first body) (slice body 1)]
                     [{} body]))
  ~(,register-test ,name ,opts (fn [] ,;body)))

(defn check
  "Fail the current test unless `cond` holds."
  [ok &opt fmt & args]
  (unless ok
    (error (if fmt (string/format fmt ;args) "check failed")))
  ok)

(defn short
  "A printable description of `x`, at most 200 characters."
  [x]
  (def text (string/format "%q" x))
  (if (> (length text) 200) (string (string/slice text 0 200) "...") text))

(defmacro expect-error
  ``Evaluate body, which must raise a mojo_tls error named `name` (a keyword
  such as :verify-failed, or a tuple of acceptable names). Returns the error.``
  [name & body]
  (with-syms [r e names]
    ~(let [,r (protect ,;body)
           ,names (if (,indexed? ,name) ,name [,name])]
       (when (,r 0)
         (,error (,string/format "expected error %v, got result %s" ,name (,short (,r 1)))))
       (def ,e (,r 1))
       (unless (,tls/error-code ,e)
         (,error (,string/format "expected a mojo_tls error %v, got %s" ,name (,short ,e))))
       (unless (,index-of (,e :name) ,names)
         (,error (,string/format "expected error %v, got %v: %s" ,name (,e :name) (,e :message))))
       ,e)))

(defn free-port
  "A TCP port on 127.0.0.1 that was free a moment ago."
  []
  (def l (net/listen "127.0.0.1" 0))
  (def p ((net/localname l) 1))
  (:close l)
  p)

(var- tmp-dir nil)

(defn temp-dir
  "A private temporary directory for this test file (removed at the end)."
  []
  (unless tmp-dir
    (def base (or (os/getenv "TMPDIR") "/tmp"))
    (def name (string base "/mojo-tls-janet-" (os/getpid) "-" (cert/hex (cert/random-bytes 4))))
    (os/mkdir name)
    (set tmp-dir name))
  tmp-dir)

(defn temp-file
  "Write `content` to a new file in the temporary directory; returns its path."
  [name content]
  (def path (string (temp-dir) "/" name))
  (spit path content)
  path)

(defn- rm-rf [path]
  (case (os/lstat path :mode)
    :directory (do (each e (os/dir path) (rm-rf (string path "/" e))) (os/rmdir path))
    nil nil
    (os/rm path)))

(defn pattern
  "n pseudo-random bytes (deterministic for a seed)."
  [n &opt seed]
  (def rng (math/rng (or seed 1)))
  (math/rng-buffer rng n))

# ---- what the backend negotiates ---------------------------------------------

(def default-version
  ``The protocol version our clients and servers negotiate by default (every
  backend, Mbed TLS 3.6 or 4.x, has TLS 1.3).``
  "TLSv1.3")

(def default-version-number
  "The number of default-version: 0x0304 (772)."
  0x0304)

# ---- a shared test PKI --------------------------------------------------------

(def ca (cert/ca "mojo-tls janet test CA"))
(def server-cert (cert/leaf ca "localhost" {:sans ["localhost" "127.0.0.1"]}))
(def client-cert (cert/leaf ca "test client" {:usage :client}))

(defn server-opts
  "Options for a test server (merged with `extra`)."
  [&opt extra]
  (merge {:cert server-cert :timeout 20} (or extra {})))

(defn client-opts
  "Options for a test client trusting the test CA (merged with `extra`)."
  [&opt extra]
  (merge {:ca ca :timeout 20} (or extra {})))

(defn echo-server
  ``A listener on 127.0.0.1 whose connections echo until EOF. Returns the
  listener (close it at the end).``
  [&opt opts]
  (tls/server "127.0.0.1" 0
              (fn [s]
                (while (def d (:read s 65536))
                  (:write s d)))
              (server-opts opts)))

# ---- running ------------------------------------------------------------------

(defn- run-one [name opts f]
  (def limit (get opts :timeout 60))
  (def done (ev/chan 2))
  (def sup (ev/chan 16))
  (def task (ev/go (fn []
                     (def r (try (do (f) [:ok])
                              ([e fb] [:error e fb])))
                     (ev/give done r))
                   nil sup))
  (def timer (ev/go (fn [] (ev/sleep limit) (ev/give done [:timeout])) nil sup))
  (def r (ev/take done))
  (each t [task timer]
    (unless (= :dead (fiber/status t))
      (protect (ev/cancel t "test finished"))))
  (case (r 0)
    :ok (do (print "ok " name) true)
    :timeout (do (print "FAIL " name ": timed out after " limit " s") false)
    (let [[_ e fb] r]
      (print "FAIL " name ": " (if (tls/error-code e)
                                   (string/format "%v %s (%s)" (e :name) (e :message) (e :context))
                                   (string/format "%s" (if (bytes? e) e (string/format "%q" e)))))
      (flush)
      (debug/stacktrace fb e "    ")
      (eflush)
      false)))

(defn run-tests
  "Run the registered tests (or those whose name contains $JANET_TEST_FILTER)."
  []
  (def filter-text (os/getenv "JANET_TEST_FILTER"))
  (var passed 0)
  (var failed 0)
  (each [name opts f] tests
    (when (or (nil? filter-text) (string/find filter-text name))
      (if (run-one name opts f) (++ passed) (++ failed))))
  (when tmp-dir (rm-rf tmp-dir))
  (flush)
  (print "RESULT " passed " " failed)
  (flush)
  (os/exit (if (zero? failed) 0 1)))
