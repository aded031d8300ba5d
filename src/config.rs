//! TLS configuration: what a user sets (versions, trust, own certificates,
//! ALPN, suites, groups, verification) and the backend `SslConfig` built from
//! it on first use. Setting anything after connections exist builds a fresh
//! backend config for later connections; live ones keep theirs.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::backend::keylog::KeyLog;
use crate::backend::pk::PrivateKey;
use crate::backend::ssl::{
    ConfigSpec, Pin, ServerNameCallback, SslConfig, VERIFY_NONE, VERIFY_OPTIONAL, VERIFY_REQUIRED,
};
use crate::backend::suites;
use crate::backend::ticket_keys::TicketKeyRing;
use crate::backend::x509::{CertChain, Crl};
use crate::certs;
use crate::error::{Code, Error, Result};

pub(crate) const TLS1_2: u16 = 0x0303;
pub(crate) const TLS1_3: u16 = 0x0304;

#[derive(Default)]
struct Settings {
    server: bool,
    min_version: u16,
    max_version: u16,
    verify_mode: i32,
    check_hostname: bool,
    ca: Option<Arc<CertChain>>,
    own: Vec<(Arc<CertChain>, Arc<PrivateKey>)>,
    alpn: Vec<String>,
    suites: Option<Vec<i32>>,
    groups: Option<Vec<crate::backend::generation::GroupId>>,
    crl: Option<Arc<Crl>>,
    pins: Vec<Pin>,
    pin_only: bool,
    keylog: Option<Arc<KeyLog>>,
    tickets: Option<u32>,
    ticket_keys: Option<Arc<TicketKeyRing>>,
    cache: Option<(i32, i32)>,
    /// TLS 1.3 resumption may use psk_ke (no ECDHE, no forward secrecy).
    psk_ke: bool,
    /// Use Mbed TLS's own record layer even where the fast one could run.
    mbedtls_record_layer: bool,
    /// Server: the application's server name callback.
    server_name_cb: Option<ServerNameCallback>,
    /// DTLS 1.2 over datagrams instead of TLS over a stream.
    datagram: bool,
    /// DTLS handshake retransmission delays (min, max ms).
    handshake_timeout: Option<(u32, u32)>,
    /// DTLS Connection ID: own CID length (None: off).
    dtls_cid: Option<u8>,
}

struct State {
    settings: Settings,
    built: Option<Arc<SslConfig>>,
}

pub struct Config {
    state: Mutex<State>,
}

/// What a connection needs from its configuration.
pub struct Snapshot {
    pub ssl: Arc<SslConfig>,
    pub server: bool,
    pub check_hostname: bool,
    pub verify_mode: i32,
    /// Hand connections to the fast record layer after the handshake.
    pub fast_record_layer: bool,
    /// DTLS: connections carry datagrams.
    pub datagram: bool,
}

// Record layer modes (the C API's MOJO_TLS_RECORD_LAYER_*).
pub(crate) const RECORD_LAYER_AUTO: i32 = 0;
pub(crate) const RECORD_LAYER_MBEDTLS: i32 = 1;

impl Config {
    pub fn new(server: bool) -> Config {
        Config {
            state: Mutex::new(State {
                settings: Settings {
                    server,
                    min_version: TLS1_2,
                    max_version: TLS1_3,
                    // Servers do not ask for client certificates unless told to.
                    verify_mode: if server { VERIFY_NONE } else { VERIFY_REQUIRED },
                    check_hostname: true,
                    ..Settings::default()
                },
                built: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Change settings; later connections get a freshly built backend config.
    fn update<T>(&self, f: impl FnOnce(&mut Settings) -> Result<T>) -> Result<T> {
        let mut st = self.lock();
        let r = f(&mut st.settings)?;
        st.built = None;
        Ok(r)
    }

    pub fn is_server(&self) -> bool {
        self.lock().settings.server
    }

    pub fn set_min_version(&self, v: i32) -> Result<()> {
        let v = check_version(v)?;
        self.update(|s| {
            s.min_version = v;
            Ok(())
        })
    }

    pub fn set_max_version(&self, v: i32) -> Result<()> {
        let v = check_version(v)?;
        self.update(|s| {
            s.max_version = v;
            Ok(())
        })
    }

    fn add_ca(&self, f: impl FnOnce(&mut CertChain) -> Result<usize>) -> Result<()> {
        self.update(|s| {
            let mut arc = s.ca.take().unwrap_or_default();
            // A chain already referenced by a built config is never mutated: copy it.
            let result = match Arc::get_mut(&mut arc) {
                Some(chain) => f(chain),
                None => {
                    let mut copy = arc.duplicate()?;
                    let r = f(&mut copy);
                    if r.is_ok() {
                        arc = Arc::new(copy);
                    }
                    r
                }
            };
            if !arc.is_empty() {
                s.ca = Some(arc);
            }
            result.map(|_| ())
        })
    }

    pub fn load_system_ca(&self) -> Result<()> {
        self.add_ca(certs::load_system_store)
    }

    pub fn load_ca_file(&self, path: &str) -> Result<()> {
        self.add_ca(|c| c.add_file(path, true))
    }

    pub fn load_ca_dir(&self, path: &str) -> Result<()> {
        self.add_ca(|c| c.add_dir(path))
    }

    pub fn load_ca_mem(&self, data: &[u8]) -> Result<()> {
        self.add_ca(|c| c.add(data, false))
    }

    /// Add a certificate chain + private key (the first pair is the default;
    /// a server may hold several).
    pub fn add_cert(&self, chain: CertChain, key: PrivateKey) -> Result<()> {
        let leaf = chain
            .first()
            .ok_or_else(|| Error::new(Code::MOJO_TLS_ERR_PARSE, "empty certificate chain"))?;
        key.check_matches(leaf)?;
        self.update(|s| {
            s.own.push((Arc::new(chain), Arc::new(key)));
            Ok(())
        })
    }

    pub fn set_alpn(&self, protocols: &str) -> Result<()> {
        let list: Vec<String> = protocols
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect();
        if list.is_empty() {
            return Err(Error::invalid_arg("empty ALPN protocol list"));
        }
        if let Some(bad) = list.iter().find(|p| p.len() > 255) {
            return Err(Error::invalid_arg(format!(
                "ALPN protocol too long: {} bytes",
                bad.len()
            )));
        }
        self.update(|s| {
            s.alpn = list;
            Ok(())
        })
    }

    pub fn set_ciphersuites(&self, names: &str) -> Result<()> {
        let ids = suites::parse_suites(names)?;
        self.update(|s| {
            s.suites = Some(ids);
            Ok(())
        })
    }

    /// The versions a config will negotiate: the configured range narrowed to
    /// what a custom suite list can serve (only TLS 1.2 suites: no TLS 1.3,
    /// only TLS 1.3 suites: no TLS 1.2), as OpenSSL does with its two lists.
    fn effective_versions(s: &Settings) -> Result<(u16, u16)> {
        let (mut min, mut max) = (s.min_version, s.max_version);
        if let Some(ids) = &s.suites {
            let (has12, has13) = suites::versions_served(ids);
            if !has13 {
                max = max.min(TLS1_2);
            }
            if !has12 {
                min = min.max(TLS1_3);
            }
        }
        if min > max {
            return Err(Error::invalid_arg(
                "no protocol version left: the cipher suites and the minimum/maximum versions exclude each other",
            ));
        }
        Ok((min, max))
    }

    pub fn set_groups(&self, names: &str) -> Result<()> {
        let ids = suites::parse_groups(names)?;
        self.update(|s| {
            s.groups = Some(ids);
            Ok(())
        })
    }

    pub fn insecure_set_verify(&self, mode: i32) -> Result<()> {
        if ![VERIFY_NONE, VERIFY_OPTIONAL, VERIFY_REQUIRED].contains(&mode) {
            return Err(Error::invalid_arg(format!("unknown verify mode {mode}")));
        }
        self.update(|s| {
            s.verify_mode = mode;
            Ok(())
        })
    }

    pub fn insecure_skip_hostname_check(&self, skip: bool) -> Result<()> {
        self.update(|s| {
            s.check_hostname = !skip;
            Ok(())
        })
    }

    /// Server: ask clients for a certificate (mutual TLS), verified against
    /// this configuration's CA store.
    pub fn set_client_auth(&self, mode: i32) -> Result<()> {
        if ![VERIFY_NONE, VERIFY_OPTIONAL, VERIFY_REQUIRED].contains(&mode) {
            return Err(Error::invalid_arg(format!(
                "unknown client-auth mode {mode}"
            )));
        }
        self.update(|s| {
            if !s.server {
                return Err(Error::bad_state(
                    "client authentication is a server setting",
                ));
            }
            s.verify_mode = mode;
            Ok(())
        })
    }

    fn add_crl(&self, f: impl FnOnce(&mut Crl) -> Result<()>) -> Result<()> {
        self.update(|s| {
            let mut crl = match s.crl.take() {
                Some(arc) => Arc::try_unwrap(arc).or_else(|arc| arc.duplicate())?,
                None => Crl::new(),
            };
            let r = f(&mut crl);
            if !crl.is_empty() {
                s.crl = Some(Arc::new(crl));
            }
            r
        })
    }

    pub fn load_crl_file(&self, path: &str) -> Result<()> {
        self.add_crl(|c| c.add_file(path))
    }

    pub fn load_crl_mem(&self, data: &[u8]) -> Result<()> {
        self.add_crl(|c| c.add(data))
    }

    pub fn add_pin(&self, spki: bool, hash: &[u8]) -> Result<()> {
        let hash: [u8; 32] = hash.try_into().map_err(|_| {
            Error::invalid_arg(format!("a SHA-256 pin is 32 bytes, not {}", hash.len()))
        })?;
        self.update(|s| {
            let pin = Pin { spki, hash };
            if !s.pins.contains(&pin) {
                s.pins.push(pin);
            }
            Ok(())
        })
    }

    pub fn set_pin_only(&self, on: bool) -> Result<()> {
        self.update(|s| {
            s.pin_only = on;
            Ok(())
        })
    }

    pub fn set_keylog_file(&self, path: Option<&str>) -> Result<()> {
        let log = path.map(KeyLog::open).transpose()?.map(Arc::new);
        self.update(|s| {
            s.keylog = log;
            Ok(())
        })
    }

    pub fn enable_session_tickets(&self, lifetime_s: i32) -> Result<()> {
        let lifetime = if lifetime_s <= 0 {
            86_400
        } else {
            lifetime_s as u32
        };
        self.update(|s| {
            if !s.server {
                return Err(Error::bad_state(
                    "session tickets are issued by servers (clients use them automatically)",
                ));
            }
            s.tickets = Some(lifetime);
            Ok(())
        })
    }

    /// Server: seal tickets under the caller's keys (see
    /// `mojo_tls_config_set_ticket_keys`); enables tickets. Called again, it
    /// rotates in place: configurations already in use switch at once.
    pub fn set_ticket_keys(&self, keys: &[u8]) -> Result<()> {
        let existing = {
            let st = self.lock();
            if !st.settings.server {
                return Err(Error::bad_state(
                    "ticket keys are a server setting (clients use tickets automatically)",
                ));
            }
            st.settings.ticket_keys.clone()
        };
        if let Some(ring) = existing {
            return ring.replace(keys);
        }
        let ring = Arc::new(TicketKeyRing::new(keys)?);
        self.update(|s| {
            s.tickets.get_or_insert(86_400);
            s.ticket_keys = Some(ring);
            Ok(())
        })
    }

    pub fn set_session_cache(&self, max_entries: i32, timeout_s: i32) -> Result<()> {
        if max_entries < 0 || timeout_s < 0 {
            return Err(Error::invalid_arg(
                "cache size and timeout must not be negative",
            ));
        }
        self.update(|s| {
            if !s.server {
                return Err(Error::bad_state("the session cache is a server setting"));
            }
            s.cache = (max_entries > 0).then_some((max_entries, timeout_s.max(1)));
            Ok(())
        })
    }

    /// TLS 1.3 resumption without ECDHE (psk_ke), opt-in: a server also
    /// accepts psk_ke; a client resuming a TLS 1.3 session offers psk_ke
    /// alone, without a key share. Off (the default): psk_dhe_ke only, so resumed
    /// sessions keep forward secrecy.
    pub fn set_resumption_without_forward_secrecy(&self, on: bool) -> Result<()> {
        self.update(|s| {
            s.psk_ke = on;
            Ok(())
        })
    }

    /// RECORD_LAYER_AUTO (the default): after the handshake, connections
    /// whose suite the fast record layer runs use it (kernel TLS first where
    /// offered); RECORD_LAYER_MBEDTLS: Mbed TLS's own record layer always.
    pub fn set_record_layer(&self, mode: i32) -> Result<()> {
        let mbedtls = match mode {
            RECORD_LAYER_AUTO => false,
            RECORD_LAYER_MBEDTLS => true,
            _ => {
                return Err(Error::invalid_arg(format!(
                    "unknown record layer mode {mode}"
                )))
            }
        };
        self.update(|s| {
            s.mbedtls_record_layer = mbedtls;
            Ok(())
        })
    }

    /// Datagrams (DTLS 1.2) instead of a stream (TLS).
    pub fn set_datagram(&self, on: bool) -> Result<()> {
        self.update(|s| {
            s.datagram = on;
            Ok(())
        })
    }

    /// DTLS handshake retransmission: the first delay, doubled after each
    /// unanswered flight up to `max_ms`, after which the handshake fails.
    pub fn set_handshake_timeout(&self, min_ms: i32, max_ms: i32) -> Result<()> {
        if min_ms <= 0 || max_ms < min_ms {
            return Err(Error::invalid_arg(format!(
                "DTLS handshake timeouts need 0 < min <= max (got {min_ms}, {max_ms})"
            )));
        }
        self.update(|s| {
            s.handshake_timeout = Some((min_ms as u32, max_ms as u32));
            Ok(())
        })
    }

    /// DTLS Connection ID (RFC 9146): `len` < 0 off, else offer the
    /// extension with a random own CID of `len` bytes per connection (0:
    /// send to a peer by its CID, ask for none in what we receive).
    pub fn set_dtls_connection_id(&self, len: i32) -> Result<()> {
        let cid = if len < 0 {
            None
        } else {
            Some(crate::backend::ssl::check_cid_len(len)?)
        };
        self.update(|s| {
            if cid.is_some() && !s.datagram {
                return Err(Error::bad_state(
                    "Connection IDs are a DTLS setting: set MOJO_TLS_TRANSPORT_DATAGRAM first",
                ));
            }
            s.dtls_cid = cid;
            Ok(())
        })
    }

    /// Server: call `cb` during each handshake (None removes it).
    pub fn set_server_name_callback(&self, cb: Option<ServerNameCallback>) -> Result<()> {
        self.update(|s| {
            if !s.server {
                return Err(Error::bad_state(
                    "the server name callback is a server setting",
                ));
            }
            s.server_name_cb = cb;
            Ok(())
        })
    }

    /// Inside a server name callback: the handshake on this thread switches
    /// to this configuration's certificates, CA, client-auth mode and pins.
    pub fn adopt_in_handshake(&self) -> Result<()> {
        self.snapshot()?.ssl.adopt_in_handshake()
    }

    /// The backend config for a new connection (built on first use).
    pub fn snapshot(&self) -> Result<Snapshot> {
        let mut st = self.lock();
        let s = &st.settings;
        if st.built.is_none() {
            if s.min_version > s.max_version {
                return Err(Error::invalid_arg(
                    "minimum protocol version is above the maximum",
                ));
            }
            let (min_version, mut max_version) = Self::effective_versions(s)?;
            if s.datagram {
                // Mbed TLS 3.6 / 4.x speak DTLS 1.2 only.
                if min_version > TLS1_2 {
                    return Err(Error::new(
                        Code::MOJO_TLS_ERR_UNSUPPORTED,
                        "DTLS 1.3 is not supported by this backend (DTLS 1.2 only)",
                    ));
                }
                max_version = TLS1_2;
            }

            let mut ca = s.ca.clone();
            if s.pin_only && s.pins.is_empty() {
                return Err(Error::bad_state(
                    "pin-only verification needs at least one pin",
                ));
            }
            if !s.server && ca.is_none() && s.verify_mode != VERIFY_NONE && !s.pin_only {
                // A client with no explicit trust uses the system store, like
                // ssl.create_default_context().
                let mut chain = CertChain::new();
                certs::load_system_store(&mut chain)?;
                ca = Some(Arc::new(chain));
            }
            if s.server && s.own.is_empty() {
                return Err(Error::bad_state(
                    "a server configuration needs a certificate and key (add_cert_*)",
                ));
            }
            if s.server && s.verify_mode != VERIFY_NONE && ca.is_none() && !s.pin_only {
                return Err(Error::bad_state(
                    "verifying client certificates needs CA certificates",
                ));
            }
            let ssl = SslConfig::build(ConfigSpec {
                server: s.server,
                min_version,
                max_version,
                authmode: s.verify_mode,
                ca,
                own: s.own.clone(),
                alpn: s.alpn.clone(),
                suites: s.suites.clone(),
                groups: s.groups.clone(),
                crl: s.crl.clone(),
                pins: s.pins.clone(),
                pin_only: s.pin_only,
                keylog: s.keylog.clone().or_else(env_keylog),
                tickets: s.tickets,
                ticket_keys: s.ticket_keys.clone(),
                cache: s.cache,
                psk_ke: s.psk_ke,
                capture_keys: !s.mbedtls_record_layer && !s.datagram,
                server_name_cb: s.server_name_cb.clone(),
                datagram: s.datagram,
                handshake_timeout: s.handshake_timeout,
                dtls_cid: s.dtls_cid,
            })?;
            st.built = Some(Arc::new(ssl));
        }
        let s = &st.settings;
        Ok(Snapshot {
            ssl: st.built.clone().expect("built above"),
            server: s.server,
            check_hostname: s.check_hostname && s.verify_mode != VERIFY_NONE,
            verify_mode: s.verify_mode,
            // The fast record layer is TLS's (stream records) only.
            fast_record_layer: !s.mbedtls_record_layer && !s.datagram,
            datagram: s.datagram,
        })
    }
}

/// SSLKEYLOGFILE, honoured like OpenSSL-based tools do (opt-in by the
/// environment; a file that cannot be opened is ignored).
fn env_keylog() -> Option<Arc<KeyLog>> {
    let path = std::env::var("SSLKEYLOGFILE")
        .ok()
        .filter(|p| !p.is_empty())?;
    KeyLog::open(&path).ok().map(Arc::new)
}

fn check_version(v: i32) -> Result<u16> {
    match v {
        0x0303 => Ok(TLS1_2),
        0x0304 => Ok(TLS1_3),
        0x0300..=0x0302 => Err(Error::new(
            Code::MOJO_TLS_ERR_UNSUPPORTED,
            "SSL 3.0, TLS 1.0 and TLS 1.1 are insecure and not supported",
        )),
        _ => Err(Error::invalid_arg(format!(
            "unknown protocol version 0x{v:04x} (use 0x0303 or 0x0304)"
        ))),
    }
}
