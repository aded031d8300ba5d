"""A small X.509 reader in Python: PEM/DER certificates split out of CA
bundles, and the fields ``ssl``'s decoded certificate dict carries, for
:meth:`TLSContext.get_ca_certs` (the C library decodes only a connection's
peer certificate)."""

from __future__ import annotations

import base64
import re
from typing import Any, Dict, List, Optional, Tuple

from ._conn import _der_header, _ip_text, cert_serial

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Attribute OIDs -> OpenSSL's long names (what ssl's certificate dicts use).
_OID_NAMES = {
    "2.5.4.3": "commonName", "2.5.4.4": "surname", "2.5.4.5": "serialNumber",
    "2.5.4.6": "countryName", "2.5.4.7": "localityName", "2.5.4.8": "stateOrProvinceName",
    "2.5.4.9": "streetAddress", "2.5.4.10": "organizationName",
    "2.5.4.11": "organizationalUnitName", "2.5.4.12": "title", "2.5.4.13": "description",
    "2.5.4.15": "businessCategory", "2.5.4.17": "postalCode", "2.5.4.41": "name",
    "2.5.4.42": "givenName", "2.5.4.43": "initials", "2.5.4.44": "generationQualifier",
    "2.5.4.45": "x500UniqueIdentifier", "2.5.4.46": "dnQualifier", "2.5.4.65": "pseudonym",
    "2.5.4.72": "role", "2.5.4.97": "organizationIdentifier",
    "1.2.840.113549.1.9.1": "emailAddress",
    "0.9.2342.19200300.100.1.25": "domainComponent",
    "0.9.2342.19200300.100.1.1": "userId",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionCountryName",
    "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionStateOrProvinceName",
    "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionLocalityName",
}

_PEM_RE = re.compile(rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----(.+?)"
                     rb"-----END (?:X509 |TRUSTED )?CERTIFICATE-----", re.S)


def split_certificates(data: bytes) -> List[bytes]:
    """The DER certificates in `data`: PEM blocks, else concatenated DER."""
    if b"-----BEGIN" in data:
        out = []
        for m in _PEM_RE.finditer(data):
            try:
                out.append(base64.b64decode(b"".join(m.group(1).split()), validate=True))
            except ValueError:
                continue
        return out
    ders = []
    pos = 0
    try:
        while pos < len(data):
            tag, _, end = _der_header(data, pos)
            if tag != 0x30:
                break
            ders.append(data[pos:end])
            pos = end
    except (IndexError, ValueError):
        pass
    return ders


def _children(der: bytes, start: int, end: int) -> List[Tuple[int, int, int]]:
    out = []
    pos = start
    while pos < end:
        tag, s, e = _der_header(der, pos)
        out.append((tag, s, e))
        pos = e
    return out


def _oid(raw: bytes) -> str:
    if not raw:
        return ""
    first = raw[0]
    parts = [str(min(first // 40, 2)), str(first - 40 * min(first // 40, 2))]
    v = 0
    for b in raw[1:]:
        v = (v << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(str(v))
            v = 0
    return ".".join(parts)


def _string(tag: int, raw: bytes) -> str:
    if tag == 0x1E:  # BMPString
        return raw.decode("utf-16-be", "replace")
    if tag == 0x1C:  # UniversalString
        return raw.decode("utf-32-be", "replace")
    if tag in (0x14, 0x15):  # TeletexString, VideotexString
        return raw.decode("latin-1")
    return raw.decode("utf-8", "replace")


def _name(der: bytes, s: int, e: int) -> Tuple[Tuple[Tuple[str, str], ...], ...]:
    rdns = []
    for tag, rs, re_ in _children(der, s, e):          # RDN SETs
        avas = []
        for _, as_, ae in _children(der, rs, re_):     # AttributeTypeAndValue
            (_, os_, oe), (vt, vs, ve) = _children(der, as_, ae)[:2]
            oid = _oid(der[os_:oe])
            avas.append((_OID_NAMES.get(oid, oid), _string(vt, der[vs:ve])))
        rdns.append(tuple(avas))
    return tuple(rdns)


def _time(tag: int, raw: bytes) -> str:
    text = raw.decode("ascii").rstrip("Z")
    if tag == 0x17:  # UTCTime YYMMDDHHMM[SS]
        yy = int(text[:2])
        year, rest = (1900 + yy if yy >= 50 else 2000 + yy), text[2:]
    else:            # GeneralizedTime YYYYMMDDHHMM[SS]
        year, rest = int(text[:4]), text[4:]
    mon, day, hh, mm = int(rest[0:2]), int(rest[2:4]), int(rest[4:6]), int(rest[6:8])
    ss = int(rest[8:10]) if len(rest) >= 10 else 0
    return f"{_MONTHS[mon - 1]} {day:2d} {hh:02d}:{mm:02d}:{ss:02d} {year} GMT"


def _sans(der: bytes, s: int, e: int) -> Tuple[Tuple[str, str], ...]:
    out = []
    for tag, gs, ge in _children(der, s, e):
        raw = der[gs:ge]
        if tag == 0x82:
            out.append(("DNS", raw.decode("ascii", "replace")))
        elif tag == 0x87:
            import ipaddress
            if len(raw) in (4, 16):
                out.append(("IP Address", _ip_text(str(ipaddress.ip_address(raw)))))
            else:
                out.append(("IP Address", "<invalid>"))
        elif tag == 0x81:
            out.append(("email", raw.decode("ascii", "replace")))
        elif tag == 0x86:
            out.append(("URI", raw.decode("ascii", "replace")))
        elif tag == 0xA4:
            _, ns, ne = _der_header(der, gs)
            out.append(("DirName", _name(der, ns, ne)))  # type: ignore[arg-type]
    return tuple(out)


def is_ca(der: bytes) -> bool:
    """OpenSSL's X509_check_ca() as ssl's get_ca_certs() applies it:
    basicConstraints cA, else (no basicConstraints) a self-signed version 1
    certificate or keyUsage keyCertSign."""
    try:
        _, cs, ce = _der_header(der, 0)
        _, ts, te = _children(der, cs, ce)[0]
        items = _children(der, ts, te)
        v1 = items[0][0] != 0xA0
        if not v1:
            items = items[1:]
        key_cert_sign = False
        for tag, xs, _ in items[6:]:
            if tag != 0xA3:
                continue
            _, ls, le = _der_header(der, xs)
            for _, es, ee in _children(der, ls, le):
                parts = _children(der, es, ee)
                oid = _oid(der[parts[0][1]:parts[0][2]])
                _, os_, _ = parts[-1]
                _, vs, ve = _der_header(der, os_)
                if oid == "2.5.29.19":                 # basicConstraints
                    inner = _children(der, vs, ve)
                    return bool(inner and inner[0][0] == 0x01 and der[inner[0][1]] != 0)
                if oid == "2.5.29.15":                 # keyUsage BIT STRING
                    bits = der[vs + 1:ve]
                    key_cert_sign = bool(bits and bits[0] & 0x04)
        if key_cert_sign:
            return True
        return v1 and der[items[2][1]:items[2][2]] == der[items[4][1]:items[4][2]]
    except (IndexError, ValueError):
        return False


def decode_certificate(der: bytes) -> Optional[Dict[str, Any]]:
    """The dict ssl builds for a certificate (``getpeercert()``,
    ``get_ca_certs()``): subject, issuer, version, serialNumber, notBefore,
    notAfter and subjectAltName (DNS, IP Address, email, URI, DirName).
    OCSP, caIssuers and crlDistributionPoints are not decoded. None when
    `der` is not a certificate."""
    try:
        _, cs, ce = _der_header(der, 0)
        tbs_tag, ts, te = _children(der, cs, ce)[0]
        if tbs_tag != 0x30:
            return None
        items = _children(der, ts, te)
        version = 1
        if items[0][0] == 0xA0:
            _, vs, ve = _der_header(der, items[0][1])
            version = int.from_bytes(der[vs:ve], "big") + 1
            items = items[1:]
        # serialNumber, signature, issuer, validity, subject, spki, [1], [2], [3]
        issuer = _name(der, items[2][1], items[2][2])
        (nbt, nbs, nbe), (nat, nas, nae) = _children(der, items[3][1], items[3][2])[:2]
        subject = _name(der, items[4][1], items[4][2])
        info: Dict[str, Any] = {"subject": subject, "issuer": issuer, "version": version}
        serial = cert_serial(der)
        if serial is not None:
            info["serialNumber"] = serial
        info["notBefore"] = _time(nbt, der[nbs:nbe])
        info["notAfter"] = _time(nat, der[nas:nae])
        for tag, xs, xe in items[6:]:
            if tag != 0xA3:
                continue
            _, ls, le = _der_header(der, xs)           # Extensions SEQUENCE
            for _, es, ee in _children(der, ls, le):
                parts = _children(der, es, ee)
                if _oid(der[parts[0][1]:parts[0][2]]) != "2.5.29.17":
                    continue
                _, os_, _ = parts[-1]                   # extnValue OCTET STRING
                _, ss, se = _der_header(der, os_)
                info["subjectAltName"] = _sans(der, ss, se)
        return info
    except (IndexError, ValueError, UnicodeDecodeError):
        return None
