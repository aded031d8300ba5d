//! Certificate generation rejects out-of-range input cleanly.

use mojo_tls::testing::certgen;
use mojo_tls::testing::Code;

#[test]
fn out_of_range_validity_is_an_invalid_argument() {
    let ca = certgen::ca("CA", 10, 0).unwrap();
    for (not_before, days) in [
        (i32::MIN, 30),
        (i32::MAX, 30),
        (0, 0),
        (0, -1),
        (0, i32::MAX),
        (-36_501, 10),
    ] {
        let e = certgen::leaf(Some(&ca), "x", "localhost", not_before, days, 1, 0)
            .err()
            .unwrap();
        assert_eq!(
            e.code,
            Code::MOJO_TLS_ERR_INVALID_ARGUMENT,
            "({not_before}, {days}): {e}"
        );
    }
    certgen::leaf(Some(&ca), "x", "localhost", -36_500, 10, 1, 0).unwrap();
}
