//! Private keys in the formats people have: PKCS#8 (plain and encrypted with
//! OpenSSL's default PBES2/AES) and traditional encrypted PEM.

use std::process::Command;

use mojo_tls::testing::certgen;
use mojo_tls::testing::Code;
use mojo_tls::testing::PrivateKey;

fn openssl(args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the openssl command line is needed for this test");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl {args:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn encrypted_keys_need_the_right_password() {
    let key = certgen::ca("k", 1, 0).unwrap().key_pem;
    let pkcs8_aes = openssl(&["pkey", "-aes256", "-passout", "pass:secret"], &key);
    assert!(pkcs8_aes.contains("ENCRYPTED PRIVATE KEY"));
    let traditional = openssl(&["ec", "-aes256", "-passout", "pass:secret"], &key);
    assert!(traditional.contains("Proc-Type: 4,ENCRYPTED"));

    // PBES2 with 3DES and the SHA-1 PRF (OpenSSL leaves the PRF out): the
    // pkcs8 crate declines, Mbed TLS decrypts it.
    let pkcs8_des3_sha1 = openssl(
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "des3",
            "-v2prf",
            "hmacWithSHA1",
            "-passout",
            "pass:secret",
        ],
        &key,
    );
    // AES with the SHA-1 PRF (OpenSSL 1.x's default for -v2).
    let pkcs8_aes_sha1 = openssl(
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-v2prf",
            "hmacWithSHA1",
            "-passout",
            "pass:secret",
        ],
        &key,
    );
    for pem in [&pkcs8_aes, &traditional, &pkcs8_des3_sha1, &pkcs8_aes_sha1] {
        PrivateKey::parse(pem.as_bytes(), Some(b"secret")).unwrap();
        let wrong = PrivateKey::parse(pem.as_bytes(), Some(b"guess"))
            .err()
            .unwrap();
        assert_eq!(wrong.code, Code::MOJO_TLS_ERR_BAD_PASSWORD, "{wrong}");
        let missing = PrivateKey::parse(pem.as_bytes(), None).err().unwrap();
        assert_eq!(missing.code, Code::MOJO_TLS_ERR_BAD_PASSWORD, "{missing}");
    }
    // DER form of the encrypted PKCS#8 key.
    let der = Command::new("sh")
        .arg("-c")
        .arg("openssl pkcs8 -topk8 -v2 aes256 -passout pass:secret -outform DER")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(key.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap()
        .stdout;
    PrivateKey::parse(&der, Some(b"secret")).unwrap();
    assert_eq!(
        PrivateKey::parse(&der, Some(b"nope")).err().unwrap().code,
        Code::MOJO_TLS_ERR_BAD_PASSWORD
    );
}

#[test]
fn garbage_and_truncated_keys_are_parse_errors() {
    let key = certgen::ca("k", 1, 0).unwrap().key_pem;
    assert_eq!(
        PrivateKey::parse(b"garbage", None).err().unwrap().code,
        Code::MOJO_TLS_ERR_PARSE
    );
    let truncated = &key[..key.len() / 2];
    assert_eq!(
        PrivateKey::parse(truncated.as_bytes(), None)
            .err()
            .unwrap()
            .code,
        Code::MOJO_TLS_ERR_PARSE
    );
    assert_eq!(
        PrivateKey::parse(b"", None).err().unwrap().code,
        Code::MOJO_TLS_ERR_INVALID_ARGUMENT
    );
}
