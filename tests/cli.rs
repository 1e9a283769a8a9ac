//! The `stackjwt` command, run as a built binary: every subcommand, the shared vectors byte
//! for byte, and every error path with its exit status.
#![cfg(feature = "cli")]
// Tests: helpers fail loudly, and the decoder-only restriction lints do not apply.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
#![allow(clippy::std_instead_of_core, clippy::cast_possible_truncation)]

use assert_cmd::Command;
use serde_json::Value;
use stackjwt::{Algorithm, Key, Verifier};

const LONG: &str = "8hz7kq2wm4xd9v6bn3tj5yr1pc0fa7eu4sg2lh8zk6wq3xm9vd5bt1nj7rc4yp0f";

fn cmd(secret: Option<&str>) -> Command {
    let mut c = Command::cargo_bin("stackjwt").unwrap();
    c.env_remove("STREAM_API_SECRET");
    if let Some(s) = secret {
        c.env("STREAM_API_SECRET", s);
    }
    c
}

/// Runs and returns (status, stdout, stderr).
fn run(c: &mut Command) -> (i32, String, String) {
    let out = c.output().unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn vectors() -> Vec<Value> {
    let text =
        std::fs::read_to_string(format!("{}/tests/data/hs256_stream_js.jsonl", env!("CARGO_MANIFEST_DIR"))).unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[test]
fn mints_the_shared_vectors_byte_for_byte() {
    for v in vectors() {
        let want = format!("{}\n", v["token"].as_str().unwrap());
        let secret = v["secret"].as_str();
        let weak = secret.is_some_and(|s| s.len() < 32);
        let mut c = cmd(secret);
        match v["kind"].as_str().unwrap() {
            "user" => {
                c.args(["token", v["user_id"].as_str().unwrap()]);
                if let Some(e) = v["exp"].as_u64() {
                    c.args(["--exp", &e.to_string()]);
                }
                if let Some(i) = v["iat"].as_u64() {
                    c.args(["--iat", &i.to_string()]);
                }
            }
            "server" => {
                c.arg("server-token");
            }
            _ => {
                c.args(["dev-token", v["user_id"].as_str().unwrap()]);
            }
        }
        if weak {
            c.arg("--weak-secret");
        }
        // Stdout is the SDK's token alone; a token without iat is noted on stderr.
        let noted = v["kind"] != "dev" && v["iat"].as_u64().is_none();
        let note = if noted { NO_IAT_NOTE.to_owned() } else { String::new() };
        assert_eq!(run(&mut c), (0, want, note), "{v}");
    }
}

/// What `token` and `server-token` say on stderr when minting without `--iat`.
const NO_IAT_NOTE: &str = "note: no --iat: a revocation cutoff (revoke_tokens_issued_before) refuses this token whenever it was minted; add --iat now\n";

/// `--iat now` on both minting commands (a token minted after a revocation cutoff passes it);
/// without it, the note.
#[test]
fn server_tokens_take_iat_and_tokens_without_it_are_noted() {
    let before = now();
    let (code, out, err) = run(cmd(Some(LONG)).args(["server-token", "--iat", "now"]));
    assert_eq!((code, err.as_str()), (0, ""));
    let key = Key::new(Algorithm::Hs256, LONG.as_bytes()).unwrap();
    let mut scratch = [0u8; 1024];
    let claims = Verifier::new(&key).verify(out.trim(), now(), &mut scratch).unwrap();
    assert!(claims.is_server() && (before..=now()).contains(&claims.iat().unwrap()));
    let (code, out, err) = run(cmd(Some(LONG)).args(["server-token", "--iat", "1700000000"]));
    assert_eq!((code, err.as_str()), (0, ""));
    let mut buf = [0u8; 256];
    assert_eq!(out.trim(), key.server_token_with_iat(1_700_000_000, &mut buf).unwrap());
    for args in [&["server-token"][..], &["token", "john"]] {
        let (code, _, err) = run(cmd(Some(LONG)).args(args));
        assert_eq!((code, err.as_str()), (0, NO_IAT_NOTE), "{args:?}");
    }
}

#[test]
fn relative_exp_and_iat_now_use_the_clock() {
    let before = now();
    let (code, out, _) = run(cmd(Some(LONG)).args(["token", "john", "--exp", "+1h", "--iat", "now"]));
    assert_eq!(code, 0);
    let key = Key::new(Algorithm::Hs256, LONG.as_bytes()).unwrap();
    let mut scratch = [0u8; 512];
    let c = Verifier::new(&key).verify(out.trim_end(), before, &mut scratch).unwrap();
    let (exp, iat) = (c.exp().unwrap(), c.iat().unwrap());
    assert!((before + 3600..=now() + 3600).contains(&exp), "{exp}");
    assert!((before..=now()).contains(&iat));
    for (arg, secs) in [("+90s", 90), ("+15m", 900), ("+7d", 604_800), ("+30", 30)] {
        let (_, out, _) = run(cmd(Some(LONG)).args(["token", "a", "--exp", arg]));
        let c = Verifier::new(&key).verify(out.trim_end(), before, &mut scratch).unwrap();
        assert!((before + secs..=now() + secs).contains(&c.exp().unwrap()), "{arg}");
    }
}

#[test]
fn other_algorithms_and_kid() {
    let secret = "k".repeat(64);
    let (code, out, _) = run(cmd(Some(&secret)).args(["token", "john", "--alg", "hs512", "--kid", "2026-11"]));
    assert_eq!(code, 0);
    let key = Key::new(Algorithm::Hs512, secret.as_bytes()).unwrap().with_kid("2026-11").unwrap();
    assert_eq!(out.trim_end(), key.user_token("john", None, None, &mut [0u8; 512]).unwrap());
    let (code, stdout, _) =
        run(cmd(Some(&secret)).args(["verify", out.trim_end(), "--alg", "hs512", "--kid", "2026-11"]));
    assert_eq!((code, stdout.as_str()), (0, "{\"user_id\":\"john\"}\n"));
    let (code, _, err) = run(cmd(Some(&secret)).args(["verify", out.trim_end()]));
    assert_eq!((code, err.as_str()), (1, "error: token is HS512, the key is HS256: use --alg hs512\n"));
}

#[test]
fn verify_prints_claims_or_one_error_line() {
    let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiam9obiIsImV4cCI6MTcwMDAwMDAwMCwiaWF0IjoxNjAwMDAwMDAwfQ.dxMRiyBtBACQs_Pw_iVwRUq0aloMnJ8E8xo6r9kxUYs";
    let ok = (0, "{\"user_id\":\"john\",\"exp\":1700000000,\"iat\":1600000000}\n".to_owned(), String::new());
    assert_eq!(run(cmd(Some(LONG)).args(["verify", token, "--now", "1650000000"])), ok);
    // From standard input, with surrounding whitespace, with and without '-'.
    assert_eq!(
        run(cmd(Some(LONG)).args(["verify", "-", "--now", "1650000000"]).write_stdin(format!("  {token}\n\n"))),
        ok
    );
    assert_eq!(run(cmd(Some(LONG)).args(["verify", "--now", "1650000000"]).write_stdin(token)), ok);

    let fail = |args: &[&str], stdin: Option<&str>, secret: Option<&str>| {
        let mut c = cmd(secret);
        c.args(args);
        if let Some(s) = stdin {
            c.write_stdin(s);
        }
        let (code, out, err) = run(&mut c);
        assert_eq!(out, "", "{args:?}: nothing on stdout on failure");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line on stderr: {err}");
        (code, err.trim_end().to_owned())
    };
    let expired = fail(&["verify", token], None, Some(LONG));
    assert_eq!(expired.0, 1);
    assert!(
        expired.1.starts_with("error: token expired 2023-11-14T22:13:20Z, ")
            && expired.1.ends_with(" ago (stream code 40)")
    );
    let mut tampered = token.to_owned();
    tampered.replace_range(40..41, "X");
    assert_eq!(
        fail(&["verify", &tampered, "--now", "0"], None, Some(LONG)),
        (1, "error: signature mismatch (stream code 43)".into())
    );
    assert_eq!(fail(&["verify", "garbage"], None, Some(LONG)), (1, "error: malformed token".into()));
    let empty = fail(&["verify"], Some(""), Some(LONG));
    assert_eq!(empty.0, 2, "an empty standard input is a usage error: {}", empty.1);
    assert_eq!(
        fail(&["verify", token, "--now", "1650000000", "--leeway", "1"], None, Some("x".repeat(32).as_str())).0,
        1
    );
    let nbf_future = fail(&["verify", token, "--now", "1599999999"], None, Some(LONG));
    assert_eq!(nbf_future, (1, "error: token issued in the future (stream code 42)".into()));
    let no_exp =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiam9obiJ9.CXZll3MK_Bw66Ypy6EaQirTJW15E5JmxMGK8zX6Htb8";
    assert_eq!(run(cmd(Some(LONG)).args(["verify", no_exp])).0, 0);
    assert_eq!(fail(&["verify", no_exp, "--require-exp"], None, Some(LONG)), (1, "error: token has no exp".into()));
    let dev = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiam9obiJ9.devtoken";
    assert_eq!(
        fail(&["verify", dev], None, Some(LONG)),
        (1, "error: development tokens not allowed: --allow-dev accepts them (never in production)".into())
    );
    assert_eq!(run(cmd(Some(LONG)).args(["verify", dev, "--allow-dev"])).1, "{\"user_id\":\"john\"}\n");
}

#[test]
fn secret_handling() {
    let dir = std::env::temp_dir().join(format!("stackjwt-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("secret");
    std::fs::write(&file, format!("{LONG}\n")).unwrap();
    let path = file.to_str().unwrap();
    let want =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzZXJ2ZXIiOnRydWV9.q6yEUc2VLEbRNEdp7xmMFce3df6DMLOVhv5pivMAbt8\n";
    // The file's trailing newline is trimmed, and the file wins over the environment.
    assert_eq!(run(cmd(None).args(["server-token", "--secret-file", path])).1, want);
    assert_eq!(
        run(cmd(Some("other-secret-other-secret-other-secret")).args(["server-token", "--secret-file", path])).1,
        want
    );
    std::fs::write(&file, format!("{LONG}\r\n")).unwrap();
    assert_eq!(run(cmd(None).args(["server-token", "--secret-file", path])).1, want);

    let usage = |c: &mut Command| {
        let (code, out, err) = run(c);
        assert_eq!((code, out.as_str()), (2, ""), "{err}");
        err
    };
    assert!(usage(cmd(None).arg("server-token")).contains("no secret: set STREAM_API_SECRET"));
    let missing = dir.join("missing");
    assert!(
        usage(cmd(None).args(["server-token", "--secret-file", missing.to_str().unwrap()]))
            .contains("cannot read secret file")
    );
    assert!(usage(cmd(Some("secret")).arg("server-token")).contains("secret shorter than 32 bytes"));
    assert!(
        usage(cmd(Some("secret")).args(["server-token", "--alg", "hs512", "--weak-secret", "--kid", "a b"]))
            .contains("--kid")
    );
    assert!(usage(cmd(Some("")).args(["server-token", "--weak-secret"])).contains("secret is empty"));
    let weak = run(cmd(Some("secret")).args(["server-token", "--weak-secret"]));
    assert_eq!(
        weak.1,
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzZXJ2ZXIiOnRydWV9.DHnfQolWsEGFcTR7ZwVBbIVUFAvxzDJXzB6UlyU-7JQ\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["frob"],
        &["token"],
        &["token", "john", "--exp", "+1y"],
        &["token", "john", "--exp", "soon"],
        &["token", "john", "--iat", "-5"],
        &["token", "john", "--alg", "rs256"],
        &["token", "john", "--bogus"],
        &["dev-token"],
        &["dev-token", "john", "--exp", "1"],
        &["verify", "x", "--now", "yesterday"],
        &["server-token", "extra"],
    ] {
        let (code, out, err) = run(cmd(Some(LONG)).args(args));
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
    let (code, _, err) = run(cmd(Some(LONG)).args(["token", ""]));
    assert_eq!(code, 2, "an empty USER_ID is a usage error, as the README says: {err}");
    let (code, out, _) = run(cmd(None).arg("--help"));
    assert!(code == 0 && out.contains("stackjwt token USER_ID"));
}

/// The longest tokens verify, however much of their id needs unescaping.
#[test]
fn verify_takes_escape_heavy_tokens_up_to_the_length_cap() {
    let key = stackjwt::Key::new_weak(stackjwt::Algorithm::Hs256, LONG.as_bytes()).unwrap();
    let n = (1..).take_while(|&n| key.user_token_len(&"\"".repeat(n), None, None) <= stackjwt::MAX_TOKEN_LEN).last();
    let id = "\"".repeat(n.unwrap());
    let mut buf = vec![0u8; 8192];
    let token = key.user_token(&id, None, None, &mut buf).unwrap();
    assert!(token.len() > stackjwt::MAX_TOKEN_LEN - 8 && token.len() <= stackjwt::MAX_TOKEN_LEN, "{}", token.len());
    let (code, out, err) = run(cmd(Some(LONG)).args(["verify", token, "--now", "0"]));
    assert_eq!((code, err.as_str()), (0, ""));
    let claims: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(claims["user_id"].as_str(), Some(id.as_str()));
}

#[test]
fn decode_shows_header_and_claims_without_verifying() {
    let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiam9obiJ9.not-the-signature";
    let (code, out, err) = run(cmd(None).args(["decode", token]));
    assert_eq!(code, 0);
    assert_eq!(out, "{\"header\":{\"alg\":\"HS256\",\"typ\":\"JWT\"},\"claims\":{\"user_id\":\"john\"}}\n");
    assert!(err.contains("WITHOUT verifying"));
    let (code, out, _) = run(cmd(None)
        .args(["decode", "-"])
        .write_stdin("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiYWIifQ==.devtoken\n"));
    assert_eq!((code, out.contains("\"user_id\":\"ab\"")), (0, true));
    assert_eq!(
        run(cmd(None).args(["decode", "bnVsbA.bnVsbA.x"])),
        (1, String::new(), "error: invalid json in header\n".into())
    );
    assert_eq!(
        run(cmd(None).args(["decode", "a.b.c"])),
        (1, String::new(), "error: invalid base64url in header\n".into())
    );
}

/// Characters a terminal shows as something else (DEL, C1 controls, bidirectional overrides
/// and isolates) come out of `verify` and `decode` as `\u` escapes: the same JSON value,
/// nothing that reads as `admin` when it is not.
#[test]
fn terminal_deceiving_characters_are_printed_escaped() {
    let key = Key::new_weak(Algorithm::Hs256, LONG.as_bytes()).unwrap();
    let mut buf = [0u8; 1024];
    let ids = [
        ("adm\u{7f}in\u{202e}", r"adm\u007fin\u202e"),
        ("\u{85}admin\u{9f}", r"\u0085admin\u009f"),
        ("\u{2066}admin\u{2069}\u{202a}", r"\u2066admin\u2069\u202a"),
        ("a\u{200f}\u{2028}b\u{61c}", r"a\u200f\u2028b\u061c"),
        ("zoë 🙂 \\\"", "zoë 🙂 \\\\\\\""),
    ];
    for (id, shown) in ids {
        let token = key.user_token(id, None, None, &mut buf).unwrap();
        let (code, out, err) = run(cmd(Some(LONG)).args(["verify", token, "--now", "0"]));
        assert_eq!((code, err.as_str()), (0, ""), "{id:?}");
        assert_eq!(out, format!("{{\"user_id\":\"{shown}\"}}\n"), "{id:?}");
        let claims: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(claims["user_id"].as_str(), Some(id), "the same value");
        let (_, out, _) = run(cmd(None).args(["decode", token]));
        assert!(out.contains(&format!("\"user_id\":\"{shown}\"")), "{out}");
    }
    // A carriage return between tokens would send the cursor back over what was printed.
    let claims = "{\"user_id\":\"admin\"\r,\"x\":\"\\r\"}";
    let mut payload = [0u8; 64];
    let payload = encode_segment(claims.as_bytes(), &mut payload);
    let token = format!("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{payload}.sig");
    let (code, out, _) = run(cmd(None).args(["decode", &token]));
    assert_eq!(code, 0);
    assert!(out.ends_with("\"claims\":{\"user_id\":\"admin\" ,\"x\":\"\\r\"}}\n"), "{out:?}");
}

/// Base64url without padding, for hand-made tokens.
fn encode_segment<'b>(data: &[u8], out: &'b mut [u8]) -> &'b str {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut n = 0;
    for chunk in data.chunks(3) {
        let v = chunk.iter().enumerate().fold(0u32, |v, (i, &b)| v | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out[n] = ALPHABET[(v >> (18 - 6 * i) & 63) as usize];
            n += 1;
        }
    }
    std::str::from_utf8(&out[..n]).unwrap()
}

/// Secret files lose every trailing CR and LF and nothing else, as `stackjwt-authz` reads them
/// (both call `stackjwt::secret_from_file`).
#[test]
fn secret_files_are_trimmed_of_every_trailing_cr_and_lf() {
    let dir = std::env::temp_dir().join(format!("stackjwt-cli-trim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("secret");
    let path = file.to_str().unwrap();
    let want = run(cmd(Some(LONG)).arg("server-token")).1;
    for contents in ["\n", "\n\n", "\r\n", "\r\n\r\n", "\n\r\n\r"] {
        std::fs::write(&file, format!("{LONG}{contents}")).unwrap();
        assert_eq!(run(cmd(None).args(["server-token", "--secret-file", path])).1, want, "{contents:?}");
    }
    // Spaces and tabs belong to the secret.
    std::fs::write(&file, format!("{LONG} \n")).unwrap();
    assert_ne!(run(cmd(None).args(["server-token", "--secret-file", path])).1, want);
    let (_, help, _) = run(cmd(None).arg("--help"));
    assert!(help.contains("trailing CR and LF characters are dropped"), "{help}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Messages that say what to do: a duration without its plus, an empty standard input, a dev
/// token, another algorithm, a Bearer prefix, an expired token with its time, `help`.
#[test]
fn refusals_say_what_to_do() {
    let usage = |args: &[&str], stdin: Option<&str>| {
        let mut c = cmd(Some(LONG));
        c.args(args);
        if let Some(input) = stdin {
            c.write_stdin(input);
        }
        let (code, out, err) = run(&mut c);
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
        err
    };
    let err = usage(&["token", "john", "--exp", "1h"], None);
    assert!(err.contains("--exp wants UNIX seconds or +DURATION (did you mean +1h?)"), "{err}");
    let err = usage(&["token", "john", "--exp", "-1h"], None);
    assert!(err.contains("--exp wants UNIX seconds or +DURATION") && err.contains("'-1h'"), "{err}");
    let err = usage(&["token", "john", "--exp", "soon"], None);
    assert!(err.contains("(90s, 15m, 1h, 7d), not 'soon'"), "{err}");
    for command in ["verify", "decode"] {
        for input in ["", "\n", "  \n\n"] {
            let err = usage(&[command], Some(input));
            assert!(err.contains("no token given: pass TOKEN, or pipe one into standard input"), "{err}");
        }
    }
    let err = usage(&["dev-token", ""], None);
    assert!(err.contains("needs a USER_ID"), "{err}");

    let refused = |args: &[&str], secret: &str| {
        let (code, out, err) = run(cmd(Some(secret)).args(args));
        assert_eq!((code, out.as_str()), (1, ""), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        err
    };
    let dev = run(cmd(None).args(["dev-token", "john"])).1;
    let err = refused(&["verify", dev.trim()], LONG);
    assert!(err.contains("development tokens not allowed: --allow-dev accepts them"), "{err}");
    let hs512 = run(cmd(Some(LONG)).args(["token", "john", "--alg", "hs512"])).1;
    let err = refused(&["verify", hs512.trim()], LONG);
    assert!(err.contains("token is HS512, the key is HS256: use --alg hs512"), "{err}");
    assert_eq!(run(cmd(Some(LONG)).args(["verify", hs512.trim(), "--alg", "hs512"])).0, 0);
    let token = run(cmd(Some(LONG)).args(["token", "john", "--exp", "1796637600"])).1;
    let bearer = format!("Bearer {}", token.trim());
    let err = refused(&["verify", &bearer, "--now", "0"], LONG);
    assert!(err.contains("authorization has a bearer prefix: pass the token alone"), "{err}");
    let err = refused(&["verify", token.trim(), "--now", "1796648400"], LONG);
    assert_eq!(err, "error: token expired 2026-12-07T10:00:00Z, 3h ago (stream code 40)\n");
    let err = refused(&["verify", token.trim(), "--now", "1796637600"], LONG);
    assert!(err.contains("token expired 2026-12-07T10:00:00Z, 0s ago"), "{err}");
    // A forged expired token is a signature mismatch, never a time.
    let forged = format!("{}A", &token.trim()[..token.trim().len() - 1]);
    let err = refused(&["verify", &forged, "--now", "1796648400"], LONG);
    assert!(!err.contains("expired"), "{err}");

    let (code, out, _) = run(cmd(None).arg("help"));
    assert!(code == 0 && out.contains("stackjwt token USER_ID"), "{out}");
}
