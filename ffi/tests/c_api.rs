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

/// Compiles `sources` (with `include` dirs) against the static library into `exe`.
fn compile(exe: &Path, include: &[&Path], sources: &[PathBuf]) {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let mut c = Command::new(&cc);
    c.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1"]);
    for dir in include {
        c.arg("-I").arg(dir);
    }
    let status = c
        .args(sources)
        .arg(static_library())
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(exe)
        .status()
        .unwrap_or_else(|e| panic!("{cc}: {e}"));
    assert!(status.success(), "{sources:?} did not compile");
}

fn work_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stackjwt-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The README's C example, as committed in `examples/hello.c`, compiles and runs; the README
/// shows that file verbatim.
#[test]
fn the_readme_example_runs() {
    let ffi = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = ffi.join("examples/hello.c");
    let text = std::fs::read_to_string(&source).unwrap();
    let readme = std::fs::read_to_string(ffi.join("../README.md")).unwrap();
    assert!(readme.contains(&text), "README.md does not show ffi/examples/hello.c as it is");
    let work = work_dir("hello");
    let exe = work.join("hello");
    compile(&exe, &[&ffi.join("include")], &[source]);
    let out = Command::new(&exe).env("STREAM_API_SECRET", "a-stream-api-secret-of-32-bytes-or-more").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.ends_with("user john, expires 1700003600\n"), "{stdout}");
    let missing = Command::new(&exe).env_remove("STREAM_API_SECRET").output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&missing.stderr), "key: secret is empty\n");
    std::fs::remove_dir_all(&work).ok();
}

#[test]
fn the_c_test_program_passes() {
    let ffi = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(static_library().exists(), "{} was not built", static_library().display());
    let work = work_dir("c-test");
    std::fs::write(work.join("vectors.h"), vectors_h(ffi.parent().unwrap())).unwrap();
    let exe = work.join("test_stackjwt");
    compile(&exe, &[&ffi.join("include"), &work], &[ffi.join("tests/c/test_stackjwt.c")]);

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
