# Helpers shared by mojo_tls/tls and mojo_tls/cert: errors, C strings,
# snprintf-style out-buffers, argument checks. Not a public API.

(import ./ffi :as f)

# ---- errors -----------------------------------------------------------------

(defn- short-name [name]
  (->> (string name)
       (string/replace "MOJO_TLS_ERR_" "")
       (string/replace "MOJO_TLS_" "")
       (string/replace-all "_" "-")
       (string/ascii-lower)
       (keyword)))

(def code-names
  "Map from a library error code to a short keyword (:verify-failed, ...)."
  (tabseq [[code name] :pairs f/mojo-tls-err-names] code (short-name name)))

(def codes
  "Map from a short keyword (:verify-failed, ...) to the library error code."
  (tabseq [[code name] :pairs code-names] name code))

(defn to-int
  "A number from an FFI integer result (64-bit results come back boxed)."
  [x]
  (if (number? x) x (int/to-number x)))

(defn cstring
  "The NUL-terminated C string at pointer `p` (nil for NULL)."
  [p]
  (when p (ffi/read :string (ffi/write :ptr p))))

(defn strerror
  "The library's static description of an error code."
  [code]
  (cstring (f/mojo-tls-strerror code)))

(defn tls-error
  ``An error value as raised by this package: a struct with :code (the
  library's negative MOJO_TLS_ERR_* code), :name (a keyword such as
  :verify-failed), :message (the library's message) and :mojo-tls true.``
  [code message &opt context]
  (def code (to-int code))
  {:mojo-tls true
   :code code
   :name (get code-names code :unknown)
   :message (if (or (nil? message) (empty? message)) (strerror code) (string message))
   :context context})

(defn fail
  "Raise a tls-error."
  [code message &opt context]
  (error (tls-error code message context)))

(defn last-error-message
  "The library's last error message on this thread (\"\" if none)."
  []
  (def buf (buffer/new-filled 512))
  (def n (to-int (f/mojo-tls-last-error buf 512)))
  (if (< n 512)
    (string/slice buf 0 n)
    (let [big (buffer/new-filled (+ n 1))]
      (def m (to-int (f/mojo-tls-last-error big (+ n 1))))
      (string/slice big 0 (min m n)))))

(defn raise-last
  ``Raise the library's last error. `code` is the negative result that
  reported it (else the thread's last error code); `context` names the
  operation.``
  [context &opt code]
  (def code (or code (let [c (f/mojo-tls-last-error-code)]
                       (if (zero? c) f/MOJO_TLS_ERR_INTERNAL c))))
  (fail code (last-error-message) context))

(defn check
  "Return the FFI result `r` as a number, raising the library's error if it is negative."
  [r context]
  (def r (to-int r))
  (when (< r 0) (raise-last context r))
  r)

(defn check-handle
  "Return the handle `p`, raising the library's last error if it is NULL."
  [p context]
  (unless p (raise-last context))
  p)

(defn error-code
  "The library error code of an error raised by this package, else nil."
  [err]
  (when (and (dictionary? err) (get err :mojo-tls)) (get err :code)))

# ---- arguments --------------------------------------------------------------

(defn invalid
  "Raise an invalid-argument error."
  [fmt & args]
  (fail f/MOJO_TLS_ERR_INVALID_ARGUMENT (string/format fmt ;args)))

(defn c-str
  ``A value to pass as a `const char *`: nil stays nil (NULL); a string,
  buffer, keyword or symbol becomes a Janet string (NUL-terminated). Rejects
  embedded NUL bytes.``
  [x what]
  (cond
    (nil? x) nil
    (or (string? x) (buffer? x) (keyword? x) (symbol? x))
    (let [s (string x)]
      (when (string/find "\0" s) (invalid "%s contains a NUL byte" what))
      s)
    (invalid "%s must be a string, got %s" what (type x))))

(defn bytes-arg
  "Check that `x` is a string or buffer (bytes to pass with their length)."
  [x what]
  (unless (or (string? x) (buffer? x))
    (invalid "%s must be a string or buffer, got %s" what (type x)))
  x)

# ---- snprintf-style out-buffers ---------------------------------------------

(defn out-string
  ``Call `(func ;args buf cap)` (snprintf style: returns the full length)
  and return the string, retrying with a larger buffer when needed.
  Raises on a negative result.``
  [context func & args]
  (var cap 256)
  (var result nil)
  (while (nil? result)
    (def buf (buffer/new-filled cap))
    (def n (check (func ;args buf cap) context))
    (if (< n cap)
      (set result (string/slice buf 0 n))
      (set cap (+ n 1))))
  result)

(defn out-bytes
  ``As out-string for binary results (DER, blobs): the function copies what
  fits and returns the full length.``
  [context func & args]
  (var cap 2048)
  (var result nil)
  (while (nil? result)
    (def buf (buffer/new-filled cap))
    (def n (check (func ;args buf cap) context))
    (if (<= n cap)
      (set result (string/slice buf 0 n))
      (set cap n)))
  result)

# ---- small utilities ----------------------------------------------------------

(defn sha256
  "SHA-256 of a string or buffer (32 raw bytes, as a string)."
  [data]
  (bytes-arg data "data")
  (def out (buffer/new-filled 32))
  (check (f/mojo-tls-sha256 data (length data) out 32) "sha256")
  (string out))

(defn random-bytes
  "`n` cryptographically secure random bytes (a string)."
  [n]
  (unless (and (int? n) (>= n 0)) (invalid "n must be a non-negative integer"))
  (def out (buffer/new-filled (max n 1)))
  (check (f/mojo-tls-random out n) "random")
  (string/slice out 0 n))

(defn hex
  "Lower-case hex of a string or buffer."
  [data]
  (string/join (map |(string/format "%02x" $) data)))

(defn unhex
  "Bytes from a hex string (colons and spaces allowed), or nil if it is not hex."
  [s]
  (def clean (string/replace-all " " "" (string/replace-all ":" "" s)))
  (when (and (even? (length clean)) (peg/match ~(* (any :h) -1) clean))
    (def out @"")
    (loop [i :range [0 (length clean) 2]]
      (buffer/push-byte out (scan-number (string/slice clean i (+ i 2)) 16)))
    (string out)))
