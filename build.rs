//! Build script.
//! - Linker settings for the shared library: the SONAME carries the ABI major
//!   version so incompatible releases can live side by side.
//! - Bindings for the Mbed TLS we build against (never checked in: 4.0 and
//!   4.1 differ in ABI), C wrappers for its static inline functions, and the
//!   `mbedtls_3` / `mbedtls_4` cfgs the backend module uses:
//!   - `bundled` (default): the Mbed TLS 3.6 that mbedtls-rs-sys builds (its
//!     headers come from the crate's `include` metadata; it links itself);
//!     sets `mbedtls_bundled`.
//!   - `system`: an installed 3.6 / 4.x (MBEDTLS_DIR or pkg-config).
//! - A linker version script: the library exports `mojo_tls_*` only (the
//!   bundled engine's Rust shims would otherwise export `mbedtls_*`).

fn main() {
    // The ABI major is MOJO_TLS_ABI_VERSION (src/ffi/library.rs, the one
    // place it is written; the header carries it from there).
    let library_rs = "src/ffi/library.rs";
    println!("cargo:rerun-if-changed={library_rs}");
    let abi_major = std::fs::read_to_string(library_rs)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| {
                    l.trim()
                        .strip_prefix("pub const MOJO_TLS_ABI_VERSION: i32 = ")
                })
                .map(|v| v.trim_end_matches(';').trim().to_string())
        })
        .expect("MOJO_TLS_ABI_VERSION not found in src/ffi/library.rs");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    match target_os.as_str() {
        "macos" | "ios" => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libmojo_tls.{abi_major}.dylib");
        }
        "windows" => {}
        _ => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmojo_tls.so.{abi_major}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(mbedtls_3)");
    println!("cargo::rustc-check-cfg=cfg(mbedtls_4)");
    println!("cargo::rustc-check-cfg=cfg(mbedtls_psa_rng_fork_unsafe)");
    println!("cargo::rustc-check-cfg=cfg(mbedtls_bundled)");
    println!("cargo::rustc-check-cfg=cfg(mbedtls_cid)");
    println!("cargo::rustc-check-cfg=cfg(mbedtls_gcm_alt)");
    #[cfg(feature = "system")]
    engine::configure_system();
    #[cfg(all(feature = "bundled", not(feature = "system")))]
    engine::configure_bundled();
}

/// The linker version script: `mojo_tls_*` global, everything else local.
/// rustc adds its own script that exports every `#[no_mangle]` function of
/// every crate (mbedtls-rs-sys's hook shims, critical-section's ABI); a
/// pattern cannot override those exact names, so `hidden` lists them.
/// (rust-lld lets an exact local name win over rustc's global one.)
#[allow(dead_code)]
fn version_script(hidden: &[String]) {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(target_os.as_str(), "macos" | "ios" | "windows") {
        return;
    }
    let mut text = String::from("{\n  global:\n    mojo_tls_*;\n  local:\n");
    for name in hidden {
        text.push_str(&format!("    {name};\n"));
    }
    text.push_str("    *;\n};\n");
    let path = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("exports.map");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(&path, text).expect("write the version script");
    }
    println!(
        "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
        path.display()
    );
}

#[cfg(any(feature = "system", feature = "bundled"))]
mod engine {
    use std::env;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    struct Install {
        include: PathBuf,
        lib: Option<PathBuf>,
    }

    fn first_existing(cands: impl IntoIterator<Item = PathBuf>, probe: &str) -> Option<PathBuf> {
        cands.into_iter().find(|d| d.join(probe).exists())
    }

    fn from_dir(dir: &Path) -> Install {
        let include = first_existing(
            [dir.join("include"), dir.join("usr/include")],
            "mbedtls/build_info.h",
        )
        .unwrap_or_else(|| {
            panic!(
                "MBEDTLS_DIR={}: no include/mbedtls/build_info.h (Mbed TLS 3.x/4.x headers)",
                dir.display()
            )
        });
        let mut libs = vec![dir.join("lib"), dir.join("lib64")];
        for base in [dir.join("usr/lib"), dir.join("lib")] {
            if let Ok(rd) = std::fs::read_dir(&base) {
                libs.extend(rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
            }
            libs.push(base);
        }
        let lib = libs.into_iter().find(|d| {
            std::fs::read_dir(d)
                .map(|rd| {
                    rd.flatten()
                        .any(|e| e.file_name().to_string_lossy().starts_with("libmbedtls."))
                })
                .unwrap_or(false)
        });
        Install { include, lib }
    }

    fn from_pkg_config() -> Install {
        let out = Command::new("pkg-config")
            .args(["--cflags-only-I", "--libs-only-L", "mbedtls"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
        let mut include = PathBuf::from("/usr/include");
        let mut lib = None;
        if let Some(flags) = out {
            for f in flags.split_whitespace() {
                if let Some(i) = f.strip_prefix("-I") {
                    include = PathBuf::from(i);
                } else if let Some(l) = f.strip_prefix("-L") {
                    lib = Some(PathBuf::from(l));
                }
            }
        }
        if !include.join("mbedtls/build_info.h").exists() {
            panic!(
                "the `system` backend needs Mbed TLS 3.6 or 4.x: set MBEDTLS_DIR=<prefix> \
                 or install it where pkg-config finds it (tools/fetch-mbedtls-3.6.sh fetches 3.6)"
            );
        }
        Install { include, lib }
    }

    /// MBEDTLS_VERSION_NUMBER from build_info.h, e.g. 0x03060600.
    fn version(include: &Path) -> (u32, String) {
        let text = std::fs::read_to_string(include.join("mbedtls/build_info.h"))
            .expect("read build_info.h");
        let mut number = None;
        let mut string = String::new();
        for line in text.lines() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            if parts.len() >= 3 && parts[0] == "#define" {
                match parts[1] {
                    "MBEDTLS_VERSION_NUMBER" => {
                        number = u32::from_str_radix(parts[2].trim_start_matches("0x"), 16).ok();
                    }
                    "MBEDTLS_VERSION_STRING" => string = parts[2].trim_matches('"').to_string(),
                    _ => {}
                }
            }
        }
        (
            number.expect("MBEDTLS_VERSION_NUMBER not found in build_info.h"),
            string,
        )
    }

    #[derive(Debug)]
    struct StripPrefix;

    impl bindgen::callbacks::ParseCallbacks for StripPrefix {
        // Short names (`sys::ssl_init`, `sys::ERR_SSL_WANT_READ`)
        // so the backend reads alike on every generation.
        fn item_name(&self, info: bindgen::callbacks::ItemInfo) -> Option<String> {
            strip(info.name)
        }
        fn enum_variant_name(
            &self,
            _enum_name: Option<&str>,
            name: &str,
            _value: bindgen::callbacks::EnumVariantValue,
        ) -> Option<String> {
            strip(name)
        }
    }

    fn strip(name: &str) -> Option<String> {
        name.strip_prefix("mbedtls_")
            .or_else(|| name.strip_prefix("MBEDTLS_"))
            // mbedtls_psa_* would collide with PSA's own psa_* names.
            .filter(|rest| !rest.is_empty() && !rest.starts_with(|c: char| c.is_ascii_digit()))
            .filter(|rest| !rest.to_ascii_lowercase().starts_with("psa_"))
            // mbedtls_time_t would shadow the C library's time_t.
            .filter(|rest| *rest != "time_t")
            .map(str::to_string)
    }

    /// Rewriting an unchanged file would make cargo rerun this script (and
    /// rebuild the crate) on every build.
    fn write_if_changed(path: &Path, text: &str) {
        if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
            std::fs::write(path, text).expect("write the bindgen wrapper header");
        }
    }

    /// The bundled engine: mbedtls-rs-sys has built Mbed TLS 3.6 and links
    /// it; its `include` metadata lists the header directories (its merged
    /// config first).
    #[allow(dead_code)]
    pub fn configure_bundled() {
        println!("cargo:rerun-if-env-changed=DEP_MBEDTLS_INCLUDE");
        let dirs: Vec<PathBuf> = env::var_os("DEP_MBEDTLS_INCLUDE")
            .map(|v| env::split_paths(&v).collect())
            .expect("mbedtls-rs-sys did not report its include directories");
        let main = dirs
            .iter()
            .find(|d| d.join("mbedtls/build_info.h").exists())
            .expect("mbedtls-rs-sys: no mbedtls/build_info.h in its include directories")
            .clone();
        let (number, string) = version(&main);
        if number >> 24 != 3 || number < 0x0306_0000 {
            panic!("mbedtls-rs-sys ships Mbed TLS {string}; the bundled backend expects 3.6");
        }
        // Our threading_alt.h (see .cargo/config.toml); the C flags that
        // switch threading on come from the same file's [env]. Without them
        // the engine would corrupt its state under concurrent use.
        let target = env::var("TARGET").unwrap().replace('-', "_");
        for var in ["CFLAGS", "BINDGEN_EXTRA_CLANG_ARGS"] {
            let name = format!("{var}_{target}");
            println!("cargo:rerun-if-env-changed={name}");
            let value = env::var(&name).unwrap_or_default();
            if !value.contains("-DMBEDTLS_THREADING_ALT")
                || !value.contains("-DMBEDTLS_THREADING_C")
            {
                panic!(
                    "{name} does not switch on Mbed TLS threading for the bundled engine. \
                     Build inside the mojo-tls repository (its .cargo/config.toml sets it), \
                     or copy that file's [env] section into your project's .cargo/config.toml, \
                     then `cargo clean -p mbedtls-rs-sys`"
                );
            }
        }
        let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
        let mut include = vec![manifest.join("src/backend/include")];
        include.extend(dirs);
        println!("cargo:rustc-cfg=mbedtls_3");
        println!("cargo:rustc-cfg=mbedtls_bundled");
        super::version_script(&rust_exports(&main));
        println!("cargo:rustc-env=MOJO_TLS_MBEDTLS_VERSION={string}");
        bindings(&include, 3);
    }

    /// The C-ABI functions the Rust side of the bundled engine defines
    /// (`#[no_mangle]` in mbedtls-rs-sys, found from its `mbedtls/include`
    /// directory), critical-section's two ABI symbols and our PSA RNG.
    fn rust_exports(mbedtls_include: &Path) -> Vec<String> {
        let mut names: Vec<String> = [
            "_critical_section_1_0_acquire",
            "_critical_section_1_0_release",
            "mbedtls_psa_external_get_random",
            // src/backend/gcm.rs
            "mbedtls_gcm_init",
            "mbedtls_gcm_free",
            "mbedtls_gcm_setkey",
            "mbedtls_gcm_crypt_and_tag",
            "mbedtls_gcm_auth_decrypt",
            "mbedtls_gcm_starts",
            "mbedtls_gcm_update_ad",
            "mbedtls_gcm_update",
            "mbedtls_gcm_finish",
        ]
        .map(String::from)
        .to_vec();
        let src = mbedtls_include
            .parent()
            .and_then(Path::parent)
            .map(|root| root.join("src"))
            .filter(|d| d.is_dir())
            .expect("mbedtls-rs-sys: its src/ directory is not next to mbedtls/include");
        let mut stack = vec![src];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    let mut armed = false;
                    for line in text.lines() {
                        let line = line.trim();
                        if line.contains("no_mangle") {
                            armed = true;
                        } else if armed {
                            if let Some(rest) = line.split("fn ").nth(1) {
                                let name: String = rest
                                    .chars()
                                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                                    .collect();
                                names.push(name);
                                armed = false;
                            }
                        }
                    }
                }
            }
        }
        names.sort();
        names.dedup();
        names
    }

    /// An installed Mbed TLS 3.6 / 4.x.
    #[allow(dead_code)]
    pub fn configure_system() {
        // .cargo/config.toml switches threading on for the bundled engine's
        // C build; an installed Mbed TLS has its own config, which these
        // defines would contradict.
        let target = env::var("TARGET").unwrap().replace('-', "_");
        for var in ["CFLAGS", "BINDGEN_EXTRA_CLANG_ARGS"] {
            env::remove_var(format!("{var}_{target}"));
        }
        super::version_script(&[]);
        println!("cargo:rerun-if-env-changed=MBEDTLS_DIR");
        println!("cargo:rerun-if-env-changed=MBEDTLS_LINK");
        let install = match env::var_os("MBEDTLS_DIR").filter(|v| !v.is_empty()) {
            Some(d) => from_dir(Path::new(&d)),
            None => from_pkg_config(),
        };
        let (number, string) = version(&install.include);
        let major = number >> 24;
        match major {
            3 => {
                if number < 0x0306_0000 {
                    panic!("Mbed TLS {string} is too old: the system backend needs 3.6 LTS or 4.x");
                }
                println!("cargo:rustc-cfg=mbedtls_3");
            }
            4 => {
                println!("cargo:rustc-cfg=mbedtls_4");
                // TF-PSA-Crypto 1.0 (Mbed TLS 4.0) neither reseeds its RNG
                // after fork() nor has psa_random_reseed() (CVE-2026-25835,
                // fixed in 1.1 / 4.1): the backend then forces a reseed.
                let extra = std::fs::read_to_string(install.include.join("psa/crypto_extra.h"))
                    .unwrap_or_default();
                if !extra.contains("psa_random_reseed") {
                    println!("cargo:rustc-cfg=mbedtls_psa_rng_fork_unsafe");
                }
            }
            _ => panic!("Mbed TLS {string}: the system backend supports 3.6 and 4.x (the bundled backend is 3.6)"),
        }
        println!("cargo:rustc-env=MOJO_TLS_MBEDTLS_VERSION={string}");

        // Link. Static archives make a self-contained .so; otherwise the
        // shared libraries, found at run time through an rpath when the
        // install is a private prefix.
        let crypto = if major >= 4 {
            "tfpsacrypto"
        } else {
            "mbedcrypto"
        };
        let kind = match (env::var("MBEDTLS_LINK").ok().as_deref(), &install.lib) {
            (Some("static"), _) => "static",
            (Some("dylib"), _) => "dylib",
            (_, Some(dir))
                if dir.join("libmbedtls.a").exists()
                    && dir.join(format!("lib{crypto}.a")).exists() =>
            {
                "static"
            }
            _ => "dylib",
        };
        if let Some(dir) = &install.lib {
            println!("cargo:rustc-link-search=native={}", dir.display());
            if kind == "dylib" && env::var_os("MBEDTLS_DIR").is_some() {
                println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
            }
        }
        for lib in ["mbedtls", "mbedx509", crypto] {
            println!("cargo:rustc-link-lib={kind}={lib}");
        }
        bindings(std::slice::from_ref(&install.include), major);
    }

    /// Bindings for the headers in `include`, plus C wrappers for their static
    /// inline functions (mbedtls_ssl_conf_min_tls_version & co.).
    fn bindings(include: &[PathBuf], major: u32) {
        let out = PathBuf::from(env::var("OUT_DIR").unwrap());
        let wrapper = out.join("mojo_tls_mbedtls.h");
        write_if_changed(
            &wrapper,
            "#include <mbedtls/build_info.h>\n\
             #include <mbedtls/ssl.h>\n\
             #include <mbedtls/ssl_ticket.h>\n\
             #include <mbedtls/ssl_cache.h>\n\
             #include <mbedtls/ssl_cookie.h>\n\
             #include <mbedtls/net_sockets.h>\n\
             #include <mbedtls/x509_crt.h>\n\
             #include <mbedtls/x509_crl.h>\n\
             #include <mbedtls/pk.h>\n\
             #include <mbedtls/error.h>\n\
             #include <mbedtls/version.h>\n\
             #include <mbedtls/threading.h>\n\
             #include <psa/crypto.h>\n\
             #if MBEDTLS_VERSION_MAJOR < 4\n\
             #include <mbedtls/ctr_drbg.h>\n\
             #include <mbedtls/entropy.h>\n\
             #include <mbedtls/sha256.h>\n\
             #include <mbedtls/ecp.h>\n\
             #else\n\
             /* Only for the compat layer's sizeof answers: 4.x keeps the\n\
              * DRBG and entropy contexts private (PSA owns the RNG). */\n\
             #if __has_include(<mbedtls/private/ctr_drbg.h>)\n\
             #include <mbedtls/private/ctr_drbg.h>\n\
             #endif\n\
             #if __has_include(<mbedtls/private/entropy.h>)\n\
             #include <mbedtls/private/entropy.h>\n\
             #endif\n\
             #endif\n",
        );
        let statics = out.join("mojo_tls_static_fns");
        let mut builder = bindgen::Builder::default();
        if major >= 4 {
            // 4.x defines many error codes as PSA status casts
            // (`MBEDTLS_ERR_SSL_BAD_INPUT_DATA` is `((psa_status_t)-135)`),
            // which bindgen only evaluates with clang's help.
            let fallback = out.join("macro_fallback");
            std::fs::create_dir_all(&fallback).expect("create the macro fallback dir");
            builder = builder
                .clang_macro_fallback()
                .clang_macro_fallback_build_dir(fallback);
        }
        let bindings = builder
            .header(wrapper.to_string_lossy())
            .clang_args(include.iter().map(|d| format!("-I{}", d.display())))
            .allowlist_function("(mbedtls|psa)_.*")
            .allowlist_type("(mbedtls|psa)_.*")
            .allowlist_var("(MBEDTLS|PSA)_.*")
            .default_enum_style(bindgen::EnumVariation::Consts)
            .prepend_enum_name(false)
            .derive_default(false)
            .layout_tests(false)
            .generate_comments(false)
            .wrap_static_fns(true)
            .wrap_static_fns_path(&statics)
            .parse_callbacks(Box::new(StripPrefix))
            .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
            .generate()
            .expect("bindgen failed on the Mbed TLS headers");
        bindings
            .write_to_file(out.join("mbedtls_bindings.rs"))
            .unwrap();
        // DTLS Connection ID (RFC 9146): an installed Mbed TLS may be built
        // without MBEDTLS_SSL_DTLS_CONNECTION_ID, and then ssl.h declares
        // none of its functions.
        if bindings.to_string().contains("pub fn ssl_set_cid(") {
            println!("cargo:rustc-cfg=mbedtls_cid");
        }
        // AES-GCM through AWS-LC (src/backend/gcm.rs): only when the engine
        // was built with MBEDTLS_GCM_ALT and the soft fallback
        // (.cargo/config.toml); otherwise Mbed TLS's own GCM serves.
        if bindings.to_string().contains("pub struct gcm_context_soft") {
            println!("cargo:rustc-cfg=mbedtls_gcm_alt");
        }
        println!("cargo:rerun-if-changed=src/backend/static_inline.c");
        cc::Build::new()
            .file(statics.with_extension("c"))
            .file("src/backend/static_inline.c")
            .includes(include)
            .include(&out)
            .warnings(false)
            .compile("mojo_tls_mbedtls_static_fns");
    }
}
