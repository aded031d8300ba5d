//! mojo-tls-headergen: writes `include/mojo_tls.h` from the root crate with cbindgen.
//!
//! Usage (from anywhere inside the repository):
//!
//! ```text
//! cargo run -p mojo-tls-headergen --release            # regenerate include/mojo_tls.h
//! cargo run -p mojo-tls-headergen --release -- --check # exit 1 if the committed header is stale
//! ```
//!
//! The repository root is found relative to this crate's manifest directory
//! (`tools/headergen/../..`), so the current directory does not matter. The
//! cbindgen configuration is the repository's `cbindgen.toml`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const HEADER_REL: &str = "include/mojo_tls.h";
const CONFIG_REL: &str = "cbindgen.toml";

fn repo_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.join("..").join("..");
    // Canonicalize for readable messages; fall back to the joined path.
    root.canonicalize().unwrap_or(root)
}

fn usage() -> &'static str {
    "usage: mojo-tls-headergen [--check]\n\
     \n\
     Generates include/mojo_tls.h from the repository's root crate using cbindgen.toml.\n\
     --check   generate in memory and compare with the committed header; exit 1 if stale"
}

fn generate(root: &Path) -> Result<Vec<u8>, String> {
    let config_path = root.join(CONFIG_REL);
    if !config_path.is_file() {
        return Err(format!("{CONFIG_REL} not found at the repository root"));
    }
    let config = cbindgen::Config::from_file(&config_path)
        .map_err(|e| format!("cannot read {CONFIG_REL}: {e}"))?;
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_crate(root)
        .generate()
        .map_err(|e| format!("cbindgen failed: {e}"))?;
    let mut out = Vec::new();
    bindings.write(&mut out);
    if out.is_empty() {
        return Err("cbindgen produced an empty header".to_string());
    }
    Ok(out)
}

fn run() -> Result<ExitCode, String> {
    let mut check = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                println!("{}", usage());
                return Ok(ExitCode::SUCCESS);
            }
            other => return Err(format!("unknown argument: {other}\n{}", usage())),
        }
    }

    let root = repo_root();
    let header_path = root.join(HEADER_REL);
    let generated = generate(&root)?;

    if check {
        match fs::read(&header_path) {
            Ok(committed) if committed == generated => {
                println!("{HEADER_REL} is up to date");
                Ok(ExitCode::SUCCESS)
            }
            Ok(_) => {
                eprintln!("{HEADER_REL} is stale: run ./build.sh");
                Ok(ExitCode::from(1))
            }
            Err(e) => {
                eprintln!("{HEADER_REL} is missing ({e}): run ./build.sh");
                Ok(ExitCode::from(1))
            }
        }
    } else {
        if fs::read(&header_path).ok().as_deref() == Some(generated.as_slice()) {
            println!("{HEADER_REL} unchanged");
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(dir) = header_path.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        fs::write(&header_path, &generated)
            .map_err(|e| format!("cannot write {HEADER_REL}: {e}"))?;
        println!("wrote {HEADER_REL}");
        Ok(ExitCode::SUCCESS)
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("mojo-tls-headergen: {msg}");
            ExitCode::from(2)
        }
    }
}
