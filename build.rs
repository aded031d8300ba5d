//! Linker settings for the shared library: the SONAME carries the ABI major
//! version so incompatible releases can live side by side.

fn main() {
    // The ABI major is the package's major version (0 while at 0.x).
    let abi_major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
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
}
