//! Linker settings for the shared library: the SONAME carries the ABI major
//! version so incompatible releases can live side by side.

fn main() {
    let abi_major = 0;
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
