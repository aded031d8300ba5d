//! Certificate generation with rcgen: CAs, leaves signed by a CA, self-signed
//! leaves. ECDSA P-256 by default, P-384 on request.

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason,
    RevokedCertParams, SerialNumber, SignatureAlgorithm,
};
use time::{Duration, OffsetDateTime};

use crate::error::{Code, Error, Result};

pub(crate) const KEY_ECDSA_P256: i32 = 0;
pub(crate) const KEY_ECDSA_P384: i32 = 1;
pub(crate) const USAGE_SERVER: i32 = 1;
pub(crate) const USAGE_CLIENT: i32 = 2;

pub struct GenCert {
    params: CertificateParams,
    key: KeyPair,
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_der: Vec<u8>,
}

fn algorithm(key_alg: i32) -> Result<&'static SignatureAlgorithm> {
    match key_alg {
        KEY_ECDSA_P256 => Ok(&rcgen::PKCS_ECDSA_P256_SHA256),
        KEY_ECDSA_P384 => Ok(&rcgen::PKCS_ECDSA_P384_SHA384),
        _ => Err(Error::invalid_arg(format!(
            "unknown key algorithm {key_alg}"
        ))),
    }
}

fn gen_error(e: rcgen::Error) -> Error {
    Error::new(
        Code::MOJO_TLS_ERR_INVALID_ARGUMENT,
        format!("certificate generation failed: {e}"),
    )
}

fn validity(params: &mut CertificateParams, not_before_days: i32, valid_days: i32) -> Result<()> {
    if !(1..=36_500).contains(&valid_days) || !(-36_500..=36_500).contains(&not_before_days) {
        return Err(Error::invalid_arg(
            "validity must be 1..36500 days, starting within ±36500 days",
        ));
    }
    // A minute of slack so "now" certificates are valid for peers whose clock lags.
    let start =
        OffsetDateTime::now_utc() + Duration::days(not_before_days as i64) - Duration::minutes(1);
    params.not_before = start;
    params.not_after = start + Duration::days(valid_days as i64);
    Ok(())
}

/// A random positive 16-byte serial (CRLs name certificates by serial).
fn random_serial() -> Result<SerialNumber> {
    let mut b = [0u8; 16];
    crate::backend::rng::random(&mut b)?;
    b[0] &= 0x7f;
    b[0] |= 0x01;
    Ok(SerialNumber::from_slice(&b))
}

fn finish(
    mut params: CertificateParams,
    key: KeyPair,
    issuer: Option<&GenCert>,
) -> Result<GenCert> {
    params.serial_number = Some(random_serial()?);
    let cert = match issuer {
        Some(i) => params.signed_by(&key, &Issuer::from_params(&i.params, &i.key)),
        None => params.self_signed(&key),
    }
    .map_err(gen_error)?;
    Ok(GenCert {
        cert_pem: cert.pem(),
        cert_der: cert.der().to_vec(),
        key_pem: key.serialize_pem(),
        params,
        key,
    })
}

/// A self-signed CA valid from now for `valid_days`.
pub fn ca(common_name: &str, valid_days: i32, key_alg: i32) -> Result<GenCert> {
    let key = KeyPair::generate_for(algorithm(key_alg)?).map_err(gen_error)?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(gen_error)?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut params, 0, valid_days)?;
    finish(params, key, None)
}

/// A leaf certificate for `sans` (comma-separated; IP literals become IP
/// SANs), signed by `issuer` or self-signed.
pub fn leaf(
    issuer: Option<&GenCert>,
    common_name: &str,
    sans: &str,
    not_before_days: i32,
    valid_days: i32,
    usage: i32,
    key_alg: i32,
) -> Result<GenCert> {
    if usage & !(USAGE_SERVER | USAGE_CLIENT) != 0 || usage == 0 {
        return Err(Error::invalid_arg(
            "usage must be MOJO_TLS_USAGE_SERVER and/or MOJO_TLS_USAGE_CLIENT",
        ));
    }
    if issuer.is_some_and(|i| !matches!(i.params.is_ca, IsCa::Ca(_))) {
        return Err(Error::invalid_arg("the issuer is not a CA certificate"));
    }
    let names: Vec<String> = sans
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let key = KeyPair::generate_for(algorithm(key_alg)?).map_err(gen_error)?;
    let mut params = CertificateParams::new(names).map_err(gen_error)?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if usage & USAGE_SERVER != 0 {
        params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::ServerAuth);
    }
    if usage & USAGE_CLIENT != 0 {
        params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::ClientAuth);
    }
    validity(&mut params, not_before_days, valid_days)?;
    finish(params, key, issuer)
}

/// A CRL signed by `ca` revoking `revoked` (valid from now for 30 days), PEM.
pub fn crl_pem(ca: &GenCert, revoked: &[&GenCert]) -> Result<String> {
    if !matches!(ca.params.is_ca, IsCa::Ca(_)) {
        return Err(Error::invalid_arg(
            "a CRL must be signed by a CA certificate",
        ));
    }
    let now = OffsetDateTime::now_utc() - Duration::minutes(1);
    let mut entries = Vec::new();
    for r in revoked {
        let serial = r
            .params
            .serial_number
            .clone()
            .ok_or_else(|| Error::invalid_arg("certificate without serial"))?;
        entries.push(RevokedCertParams {
            serial_number: serial,
            revocation_time: now,
            reason_code: Some(RevocationReason::KeyCompromise),
            invalidity_date: None,
        });
    }
    let params = CertificateRevocationListParams {
        this_update: now,
        next_update: now + Duration::days(30),
        crl_number: random_serial()?,
        issuing_distribution_point: None,
        revoked_certs: entries,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    params
        .signed_by(&Issuer::from_params(&ca.params, &ca.key))
        .map_err(gen_error)?
        .pem()
        .map_err(gen_error)
}
