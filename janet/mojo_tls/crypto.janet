# mojo_tls/crypto — digests, HMAC, HKDF and random bytes over libmojo_tls
# (ring underneath; nothing here is computed in Janet).
#
#   (import mojo_tls/crypto)
#   (crypto/digest :sha256 "abc")                  # 32 raw bytes
#   (crypto/hmac :sha384 key data)                 # 48 raw bytes
#   (crypto/hkdf :sha256 ikm 42 {:salt s :info i}) # RFC 5869
#   (crypto/random-bytes 16)
#
# Results are strings of raw bytes (see crypto/hex). Bad arguments raise
# the package's :invalid-argument error.

(import ./ffi :as f)
(import ./native :as n)

(def- algs
  {:sha256 f/MOJO_TLS_HASH_SHA256
   :sha384 f/MOJO_TLS_HASH_SHA384
   :sha512 f/MOJO_TLS_HASH_SHA512})

(def- lengths {:sha256 32 :sha384 48 :sha512 64})

(defn- alg-arg [alg what]
  (or (algs alg)
      (n/invalid "%s: unknown hash %v (use :sha256, :sha384 or :sha512)" what alg)))

(defn- opt-bytes [x what]
  (if (nil? x) "" (n/bytes-arg x what)))

(defn- fixed-out
  "Call (func ;args buf cap) for an output of exactly `size` bytes."
  [what size func & args]
  (def out (buffer/new-filled size))
  (def r (n/check (func ;args out size) what))
  (unless (= r size)
    (n/fail f/MOJO_TLS_ERR_INTERNAL (string/format "%s: expected %d bytes, got %d" what size r) what))
  (string out))

(defn digest-length
  "The output length in bytes of hash `alg` (:sha256 32, :sha384 48, :sha512 64)."
  [alg]
  (alg-arg alg "digest-length")
  (lengths alg))

(defn digest
  "The digest of `data` (string or buffer) with `alg` (:sha256, :sha384, :sha512), as raw bytes."
  [alg data]
  (def a (alg-arg alg "digest"))
  (n/bytes-arg data "data")
  (fixed-out "digest" (lengths alg) f/mojo-tls-digest a data (length data)))

(defn sha256 "SHA-256 of `data` (32 raw bytes)." [data] (digest :sha256 data))
(defn sha384 "SHA-384 of `data` (48 raw bytes)." [data] (digest :sha384 data))
(defn sha512 "SHA-512 of `data` (64 raw bytes)." [data] (digest :sha512 data))

(defn hmac
  "HMAC (RFC 2104) of `data` under `key` with `alg` (:sha256, :sha384, :sha512), as raw bytes."
  [alg key data]
  (def a (alg-arg alg "hmac"))
  (n/bytes-arg key "key")
  (n/bytes-arg data "data")
  (fixed-out "hmac" (lengths alg) f/mojo-tls-hmac a key (length key) data (length data)))

(defn hkdf-extract
  ``HKDF-Extract (RFC 5869): the pseudorandom key (HashLen raw bytes) of the
  input keying material `ikm` under `salt` (nil or "" = no salt).``
  [alg ikm &opt salt]
  (def a (alg-arg alg "hkdf-extract"))
  (n/bytes-arg ikm "ikm")
  (def salt (opt-bytes salt "salt"))
  (fixed-out "hkdf-extract" (lengths alg) f/mojo-tls-hkdf-extract
             a salt (length salt) ikm (length ikm)))

(defn- len-arg [len alg what]
  (def top (* 255 (lengths alg)))
  (unless (and (int? len) (>= len 1) (<= len top))
    (n/invalid "%s: length must be an integer from 1 to %d for %v, got %v" what top alg len))
  len)

(defn hkdf-expand
  ``HKDF-Expand (RFC 5869): `len` bytes (1 to 255 x HashLen) from the
  pseudorandom key `prk` (at least HashLen bytes) and `info` (nil = none).``
  [alg prk len &opt info]
  (def a (alg-arg alg "hkdf-expand"))
  (n/bytes-arg prk "prk")
  (def info (opt-bytes info "info"))
  (fixed-out "hkdf-expand" (len-arg len alg "hkdf-expand") f/mojo-tls-hkdf-expand
             a prk (length prk) info (length info)))

(defn hkdf
  ``HKDF (RFC 5869, extract then expand): `len` bytes (1 to 255 x HashLen)
  from the input keying material `ikm`. `opts`: :salt, :info (strings or
  buffers; default none).``
  [alg ikm len &opt opts]
  (default opts {})
  (def a (alg-arg alg "hkdf"))
  (n/bytes-arg ikm "ikm")
  (unless (dictionary? opts) (n/invalid "hkdf: options must be a table or struct, got %v" (type opts)))
  (eachk k opts (unless (or (= k :salt) (= k :info)) (n/invalid "hkdf: unknown option %v" k)))
  (def salt (opt-bytes (opts :salt) ":salt"))
  (def info (opt-bytes (opts :info) ":info"))
  (fixed-out "hkdf" (len-arg len alg "hkdf") f/mojo-tls-hkdf
             a salt (length salt) ikm (length ikm) info (length info)))

(defn random-bytes
  "`n` cryptographically secure random bytes (a string)."
  [n]
  (n/random-bytes n))

(defn equal?
  ``Whether two byte strings are equal, in time that depends only on their
  lengths (compare MACs with this, not =).``
  [a b]
  (n/bytes-arg a "a")
  (n/bytes-arg b "b")
  (var diff (bxor (length a) (length b)))
  (def len (min (length a) (length b)))
  (for i 0 len (set diff (bor diff (bxor (in a i) (in b i)))))
  (zero? diff))

(defn hex
  "Lower-case hex of a string or buffer."
  [data]
  (n/hex data))

(defn unhex
  "Bytes from a hex string (colons and spaces allowed), or nil if it is not hex."
  [s]
  (n/unhex s))
