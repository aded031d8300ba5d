# The interpreter janet/tools/build_janet.sh builds: its default module
# path is <prefix>/lib/janet beside its bin/ (the amalgamation's own default
# was the home directory of whoever built it, on another OS).

(use ./harness)

(defn- run-output [args env]
  (def p (os/spawn args :pe (merge env {:out :pipe})))
  (def out @"")
  (while (ev/read (p :out) 4096 out 20))
  (os/proc-wait p)
  (string/trim out))

(deftest "the built interpreter's default module path is <prefix>/lib/janet"
  (def exe (os/realpath (dyn :executable)))
  (if (not (string/has-suffix? "/target/janet/bin/janet" exe))
    (print "    (skipped: not the interpreter build_janet.sh builds)")
    (do
      (def env (os/environ))
      (put env "JANET_PATH" nil)
      (def syspath (run-output [exe "-e" "(print (dyn :syspath))"] env))
      (def prefix (string/slice exe 0 (- (length exe) (length "/bin/janet"))))
      (check (= syspath (string prefix "/lib/janet")) "syspath %q" syspath)
      (check (= "/x/y" (run-output [exe "-e" "(print (dyn :syspath))"] (merge env {"JANET_PATH" "/x/y"})))
             "JANET_PATH is not honoured"))))

(run-tests)
