//! Looks for the tests' outside tools and prints a cargo warning for each one missing.
//!
//! Cargo shows a build script's warnings for workspace members, so they stand in the test
//! command's output, above the test results (where a skipped test only says `ok`). While
//! something is missing the script runs on every build (it watches a path that does not
//! exist); once all is found it runs again only when a tool's file changes.

#![allow(clippy::print_stdout, clippy::std_instead_of_core)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A program on `PATH` (or in the sbin directories, where Debian puts nginx).
fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

fn runs(program: &Path, args: &[&str]) -> bool {
    Command::new(program).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PATH");
    println!("cargo:rerun-if-env-changed=CC");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let nginx_src = std::env::var_os("NGINX_SRC").map_or_else(|| PathBuf::from("/usr/share/nginx/src"), PathBuf::from);
    println!("cargo:rerun-if-env-changed=NGINX_SRC");
    let checks: [(&str, Option<PathBuf>, &str, &str); 6] = [
        (
            "a C compiler",
            find(&cc).filter(|p| runs(p, &["--version"])),
            "gcc",
            "the C API's tests in C (ffi/tests/c_api.rs) fail",
        ),
        ("valgrind", find("valgrind"), "valgrind", "the C tests run without valgrind"),
        ("nginx", find("nginx"), "nginx", "the tests behind a real NGINX (axum/tests/nginx.rs) are skipped"),
        (
            "the NGINX source (to build the module against)",
            Some(nginx_src.join("configure")).filter(|p| p.is_file()),
            "nginx-dev libclang-dev libpcre2-dev libssl-dev zlib1g-dev",
            "the module's tests inside a real NGINX (nginx/tests/module.rs) are skipped",
        ),
        (
            "redis-server",
            find("redis-server").filter(|_| find("redis-cli").is_some()),
            "redis-server",
            "the shared-revocation tests (axum/tests/fleet.rs) are skipped",
        ),
        (
            "PyJWT",
            find("python3").filter(|p| runs(p, &["-c", "import jwt"])),
            "python3 -m pip install 'pyjwt>=2.5'",
            "the PyJWT interop test (tests/pyjwt.rs) is skipped",
        ),
    ];
    let mut missing = false;
    for (what, found, install, effect) in checks {
        match found {
            Some(path) => println!("cargo:rerun-if-changed={}", path.display()),
            None => {
                missing = true;
                println!("cargo:warning=not installed: {what} ({install}): {effect}");
            }
        }
    }
    if missing {
        // A path that never exists: the script runs again on the next build, and says it again.
        println!("cargo:rerun-if-changed=.missing-tools-check-again");
        println!(
            "cargo:warning=README.md, \"What the tests need\", lists every tool; STACKJWT_REQUIRE_*=1 makes a skip fail"
        );
    }
}
