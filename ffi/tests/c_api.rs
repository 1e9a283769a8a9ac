//! Compiles `tests/c/test_stackjwt.c` with the system C compiler against the static library
//! (`libstackjwt_ffi.a`, built with this test) and runs it, under valgrind when it is
//! installed (`STACKJWT_REQUIRE_VALGRIND=1`, as CI sets, makes its absence a failure). The
//! JS SDK vectors reach C as a generated `vectors.h`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::std_instead_of_core, clippy::arithmetic_side_effects)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A C string literal of `s`, every byte outside plain ASCII letters and digits as an octal
/// escape (never a hex one, which would swallow the digits after it).
fn c_string(s: &str) -> String {
    let mut out = String::from("\"");
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b" .-_@:/".contains(&b) {
            out.push(char::from(b));
        } else {
            write!(out, "\\{b:03o}").unwrap();
        }
    }
    out.push('"');
    out
}

fn vectors_h(root: &Path) -> String {
    let mut h = String::from(
        "struct vector { char kind; const char *secret; const char *user_id; bool has_exp; uint64_t exp; \
         bool has_iat; uint64_t iat; const char *token; };\nstatic const struct vector VECTORS[] = {\n",
    );
    let text = std::fs::read_to_string(root.join("tests/data/hs256_stream_js.jsonl")).unwrap();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let s = |k: &str| v[k].as_str().map_or("NULL".to_owned(), c_string);
        let n = |k: &str| v[k].as_u64();
        writeln!(
            h,
            "  {{'{}', {}, {}, {}, {}u, {}, {}u, {}}},",
            &v["kind"].as_str().unwrap()[..1],
            s("secret"),
            s("user_id"),
            n("exp").is_some(),
            n("exp").unwrap_or(0),
            n("iat").is_some(),
            n("iat").unwrap_or(0),
            s("token")
        )
        .unwrap();
    }
    h.push_str("};\n");
    h
}

/// The static library cargo built with this test: beside the test executable
/// (`target/<profile>/deps`), where the test build leaves it.
fn static_library() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().join("libstackjwt_ffi.a")
}

#[test]
fn the_c_test_program_passes() {
    let ffi = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = static_library();
    assert!(lib.exists(), "{} was not built", lib.display());
    let work = std::env::temp_dir().join(format!("stackjwt-c-test-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("vectors.h"), vectors_h(ffi.parent().unwrap())).unwrap();
    let exe = work.join("test_stackjwt");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1"])
        .arg("-I")
        .arg(ffi.join("include"))
        .arg("-I")
        .arg(&work)
        .arg(ffi.join("tests/c/test_stackjwt.c"))
        .arg(&lib)
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe)
        .status()
        .unwrap_or_else(|e| panic!("{cc}: {e}"));
    assert!(status.success(), "the C test program did not compile");

    let valgrind = Command::new("valgrind").arg("--version").output().is_ok();
    if !valgrind {
        assert!(std::env::var("STACKJWT_REQUIRE_VALGRIND").as_deref() != Ok("1"), "valgrind is required here");
        eprintln!("valgrind not installed: running the C tests without it");
    }
    let mut run = if valgrind {
        let mut c = Command::new("valgrind");
        c.args(["--quiet", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite"]).arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    let out = run.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stdout}");
    eprint!("{stderr}");
    std::fs::remove_dir_all(&work).ok();
    assert!(out.status.success(), "C tests failed (exit {:?})", out.status.code());
    let last = stdout.lines().last().unwrap_or_default();
    let (passed, failed) = last.split_once(" passed, ").unwrap();
    assert_eq!(failed, "0 failed");
    assert!(passed.parse::<u32>().unwrap() > 200, "{last}");
}
