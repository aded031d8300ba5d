# mojo_tls/crypto: known answers (RFC 4231 HMAC, RFC 5869 HKDF, FIPS 180-4
# "abc" digests), argument errors, random bytes, constant-time equality.

(use ./harness)
(import mojo_tls/crypto)
(import mojo_tls/cert)

(defn- h [s] (crypto/unhex s))
(defn- rep [byte n] (string/repeat (string/from-bytes byte) n))

(deftest "digests of abc (SHA-256/384/512)"
  (check (= (crypto/hex (crypto/digest :sha256 "abc"))
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
  (check (= (crypto/hex (crypto/sha384 "abc"))
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"))
  (check (= (crypto/hex (crypto/sha512 @"abc"))
            (string "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")))
  # the same as the older SHA-256 helper, on input larger than a block
  (def big (string/repeat "0123456789" 1000))
  (check (= (crypto/sha256 big) (cert/sha256 big)))
  (check (= 64 (crypto/digest-length :sha512)))
  (check (= 32 (length (crypto/sha256 "")))))

(def- rfc4231
  # [key data sha256 sha384] of test cases 1, 2, 3, 4, 6, 7
  [[(rep 0x0b 20) "Hi There"
    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"]
   ["Jefe" "what do ya want for nothing?"
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"]
   [(rep 0xaa 20) (rep 0xdd 50)
    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
    "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27"]
   [(string/from-bytes ;(range 1 26)) (rep 0xcd 50)
    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
    "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb"]
   [(rep 0xaa 131) "Test Using Larger Than Block-Size Key - Hash Key First"
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952"]
   [(rep 0xaa 131)
    (string "This is a test using a larger than block-size key and a larger than block-size data. "
            "The key needs to be hashed before being used by the HMAC algorithm.")
    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
    "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e"]])

(deftest "HMAC-SHA-256 and HMAC-SHA-384: RFC 4231"
  (eachp [i [key data w256 w384]] rfc4231
    (check (= w256 (crypto/hex (crypto/hmac :sha256 key data))) "case %d SHA-256" i)
    (check (= w384 (crypto/hex (crypto/hmac :sha384 key data))) "case %d SHA-384" i))
  # case 5 (truncation): the first 128 bits
  (check (= "a3b6167473100ee06e0c796c2955552b"
            (string/slice (crypto/hex (crypto/hmac :sha256 (rep 0x0c 20) "Test With Truncation")) 0 32)))
  (check (= 64 (length (crypto/hmac :sha512 "" "")))))

(def- rfc5869
  # [ikm salt info prk okm] of test cases 1-3 (SHA-256)
  [[(rep 0x0b 22) (h "000102030405060708090a0b0c") (h "f0f1f2f3f4f5f6f7f8f9")
    "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"
    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"]
   [(string/from-bytes ;(range 0x00 0x50)) (string/from-bytes ;(range 0x60 0xb0))
    (string/from-bytes ;(range 0xb0 0x100))
    "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244"
    (string "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
            "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
            "cc30c58179ec3e87c14c01d5c1f3434f1d87")]
   [(rep 0x0b 22) nil nil
    "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04"
    "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"]])

(deftest "HKDF-SHA-256: RFC 5869 (extract, expand, both)"
  (eachp [i [ikm salt info prk okm]] rfc5869
    (def L (/ (length okm) 2))
    (def p (crypto/hkdf-extract :sha256 ikm salt))
    (check (= prk (crypto/hex p)) "case %d PRK" (+ i 1))
    (check (= okm (crypto/hex (crypto/hkdf-expand :sha256 p L info))) "case %d expand" (+ i 1))
    (check (= okm (crypto/hex (crypto/hkdf :sha256 ikm L {:salt salt :info info}))) "case %d hkdf" (+ i 1))))

(deftest "HKDF-SHA-384 is RFC 5869 over HMAC-SHA-384"
  # the RFC's definition spelled out with crypto/hmac: T(1) = HMAC(PRK, info | 0x01), ...
  (def [ikm salt info] [(rep 0x0b 22) (h "000102030405060708090a0b0c") (h "f0f1f2f3f4f5f6f7f8f9")])
  (def prk (crypto/hmac :sha384 salt ikm))
  (check (= prk (crypto/hkdf-extract :sha384 ikm salt)))
  (def t1 (crypto/hmac :sha384 prk (string info "\x01")))
  (def t2 (crypto/hmac :sha384 prk (string t1 info "\x02")))
  (check (= (string/slice (string t1 t2) 0 60) (crypto/hkdf :sha384 ikm 60 {:salt salt :info info})))
  (check (= "9b5097a86038b805309076a44b3a9f38063e25b516dcbf369f394cfab43685f748b6457763e4f0204fc5"
            (crypto/hex (crypto/hkdf :sha384 ikm 42 {:salt salt :info info})))))

(deftest "crypto argument errors"
  (expect-error :invalid-argument (crypto/digest :md5 "abc"))
  (expect-error :invalid-argument (crypto/digest :sha256 42))
  (expect-error :invalid-argument (crypto/hmac :sha1 "k" "d"))
  (expect-error :invalid-argument (crypto/hmac :sha256 nil "d"))
  (expect-error :invalid-argument (crypto/hkdf :sha256 "ikm" 0))
  (expect-error :invalid-argument (crypto/hkdf :sha256 "ikm" (+ 1 (* 255 32))))
  (check (= (* 255 32) (length (crypto/hkdf :sha256 "ikm" (* 255 32)))))
  (expect-error :invalid-argument (crypto/hkdf :sha256 "ikm" 1.5))
  (expect-error :invalid-argument (crypto/hkdf :sha256 "ikm" 16 {:salty "x"}))
  (def e (expect-error :invalid-argument (crypto/hkdf-expand :sha384 (rep 1 32) 16)))
  (check (string/find "48" (e :message)) "message says the PRK's minimum: %s" (e :message))
  (expect-error :invalid-argument (crypto/random-bytes -1)))

(deftest "random bytes and constant-time equality"
  (def a (crypto/random-bytes 32))
  (def b (crypto/random-bytes 32))
  (check (and (= 32 (length a)) (= 32 (length b)) (not= a b)))
  (check (= "" (crypto/random-bytes 0)))
  (check (crypto/equal? a (string a)))
  (check (crypto/equal? @"xyz" "xyz"))
  (check (not (crypto/equal? a b)))
  (check (not (crypto/equal? "abc" "abcd")))
  (check (not (crypto/equal? "abc" "abd"))))

(run-tests)
