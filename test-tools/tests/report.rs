//! The report itself: a missing tool is named in the build's own output, with what to install.

#![allow(clippy::unwrap_used, clippy::std_instead_of_core, missing_docs)]

use std::process::Command;

#[test]
fn a_missing_tool_is_named_in_the_build_output() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = std::env::temp_dir().join(format!("stackjwt-test-tools-{}", std::process::id()));
    let out = Command::new(cargo)
        .args(["build", "-p", "stackjwt-test-tools", "--target-dir"])
        .arg(&target)
        .env("CC", "no-such-c-compiler")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&target);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {err}", out.status);
    assert!(
        err.contains("warning: stackjwt-test-tools@0.1.0: not installed: a C compiler (gcc): the C API's tests in C"),
        "{err}"
    );
    assert!(err.contains("\"What the tests need\""), "{err}");
}
