//! `stackjwt`: mint, verify and inspect Stream tokens from a shell.
//!
//! The secret comes from `STREAM_API_SECRET` or `--secret-file PATH`, never from an argument.
//! Exit codes: 0 success, 1 the token was rejected (or could not be decoded), 2 usage error.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use lexopt::prelude::*;
use stackjwt::{
    Algorithm, Error, Key, MAX_TOKEN_LEN, VERIFY_SCRATCH_LEN, Verifier, decode_unverified, dev_token, secret_from_file,
};
use zeroize::Zeroizing;

const USAGE: &str = "\
stackjwt: mint, verify and inspect Stream Chat tokens (HS256/384/512 JWT)

Usage:
  stackjwt token USER_ID [--exp UNIX|+DURATION] [--iat UNIX|now] [--alg ALG] [--kid KID]
  stackjwt server-token [--iat UNIX|now] [--alg ALG] [--kid KID]
  stackjwt dev-token USER_ID
  stackjwt verify [TOKEN|-] [--now UNIX] [--leeway SECS] [--require-exp] [--allow-dev] [--alg ALG] [--kid KID]
  stackjwt decode [TOKEN|-]     (no verification)

The secret comes from the STREAM_API_SECRET environment variable or --secret-file PATH,
never from an argument. A secret file's trailing CR and LF characters are dropped (all of
them, nothing else: the same rule as stackjwt-authz's). Secrets shorter than the hash output
(32/48/64 bytes) are refused unless --weak-secret is given.

  --alg hs256|hs384|hs512   algorithm of the key (default hs256)
  DURATION                  90s, 15m, 1h or 7d (from now)
  TOKEN                     read from standard input when '-' or absent

Exit status: 0 ok, 1 token rejected, 2 usage error.
";

/// What went wrong, and which exit status it means.
enum Failure {
    /// Bad arguments or configuration: exit 2.
    Usage(String),
    /// The token was rejected or could not be read: exit 1.
    Rejected(Error),
    /// The same, said in words that tell a person what to do: exit 1.
    Explained(Error, String),
}

impl From<lexopt::Error> for Failure {
    fn from(e: lexopt::Error) -> Self {
        Self::Usage(e.to_string())
    }
}

fn usage<T>(msg: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::Usage(msg.into()))
}

#[derive(Default)]
struct Options {
    positional: Option<String>,
    exp: Option<String>,
    iat: Option<String>,
    alg: Option<String>,
    kid: Option<String>,
    secret_file: Option<String>,
    weak_secret: bool,
    now: Option<String>,
    leeway: Option<String>,
    require_exp: bool,
    allow_dev: bool,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("error: {msg} (see stackjwt --help)");
            ExitCode::from(2)
        }
        Err(Failure::Rejected(e)) => rejected(e, &e.to_string()),
        Err(Failure::Explained(e, text)) => rejected(e, &text),
    }
}

fn rejected(e: Error, text: &str) -> ExitCode {
    match e.stream_code() {
        Some(code) => eprintln!("error: {text} (stream code {code})"),
        None => eprintln!("error: {text}"),
    }
    ExitCode::from(1)
}

/// Why the token was refused, with what to do about it where there is something to do.
fn explain(e: Error, token: &str, key: &Key, now: u64) -> Failure {
    let text = match e {
        Error::DevTokenNotAllowed => {
            "development tokens not allowed: --allow-dev accepts them (never in production)".to_owned()
        }
        Error::AlgorithmNotAllowed => match header_alg(token) {
            Some(alg)
                if alg.eq_ignore_ascii_case("HS256")
                    || alg.eq_ignore_ascii_case("HS384")
                    || alg.eq_ignore_ascii_case("HS512") =>
            {
                let ours = key.algorithm().name();
                format!("token is {alg}, the key is {ours}: use --alg {}", alg.to_ascii_lowercase())
            }
            Some(alg) => {
                format!("algorithm not allowed: the token says {alg:?}, the key is {}", key.algorithm().name())
            }
            None => e.to_string(),
        },
        Error::Expired => match expiry(token, key) {
            Some(exp) => format!("token expired {}, {} ago", utc(exp), ago(now.saturating_sub(exp))),
            None => e.to_string(),
        },
        Error::BearerPrefix => format!("{e}: pass the token alone"),
        _ => return Failure::Rejected(e),
    };
    Failure::Explained(e, text)
}

/// The `alg` a token's header names, read without verifying anything (for the message only).
fn header_alg(token: &str) -> Option<String> {
    let mut scratch = [0u8; VERIFY_SCRATCH_LEN];
    let header = decode_unverified(token.as_bytes(), &mut scratch).ok()?.header;
    let (_, after) = header.split_once("\"alg\"")?;
    let value = after.trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let alg: String = value.chars().take_while(|&c| c != '"').take(16).collect();
    alg.chars().all(|c| c.is_ascii_alphanumeric()).then_some(alg)
}

/// The `exp` of a token whose signature and claims are good but whose time is up: verified
/// again with every time check out of the way.
fn expiry(token: &str, key: &Key) -> Option<u64> {
    let mut scratch = [0u8; VERIFY_SCRATCH_LEN];
    Verifier::new(key).leeway(u64::MAX).verify(token.as_bytes(), 0, &mut scratch).ok()?.exp()
}

/// `t` (Unix seconds) as an RFC 3339 UTC time.
// Bounded: `t / 86_400` is below 2^48, so no step overflows, and every subtraction takes a
// part of the value from the value (the algorithm's own invariants).
#[allow(clippy::arithmetic_side_effects)]
fn utc(t: u64) -> String {
    let (days, secs) = (t / 86_400, t % 86_400);
    // Days to a civil date (proleptic Gregorian), after Howard Hinnant's `civil_from_days`.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3_600, secs / 60 % 60, secs % 60)
}

/// A duration in its largest whole unit: `45s`, `12m`, `3h`, `2d`.
fn ago(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3_600 => format!("{}m", secs / 60),
        3_600..86_400 => format!("{}h", secs / 3_600),
        _ => format!("{}d", secs / 86_400),
    }
}

fn run() -> Result<(), Failure> {
    let mut args = lexopt::Parser::from_env();
    let command = match args.next()? {
        Some(Value(cmd)) if cmd == "help" => {
            print!("{USAGE}");
            return Ok(());
        }
        Some(Value(cmd)) => cmd.string()?,
        Some(Long("help") | Short('h')) => {
            print!("{USAGE}");
            return Ok(());
        }
        Some(Long("version") | Short('V')) => {
            println!("stackjwt {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        Some(other) => return Err(other.unexpected().into()),
        None => return usage("no command given: token, server-token, dev-token, verify or decode"),
    };
    let mut o = Options::default();
    while let Some(arg) = args.next()? {
        match arg {
            Value(v) if o.positional.is_none() => o.positional = Some(v.string()?),
            Long("exp") => o.exp = Some(args.value()?.string()?),
            Long("iat") => o.iat = Some(args.value()?.string()?),
            Long("alg") => o.alg = Some(args.value()?.string()?),
            Long("kid") => o.kid = Some(args.value()?.string()?),
            Long("secret-file") => o.secret_file = Some(args.value()?.string()?),
            Long("weak-secret") => o.weak_secret = true,
            Long("now") => o.now = Some(args.value()?.string()?),
            Long("leeway") => o.leeway = Some(args.value()?.string()?),
            Long("require-exp") => o.require_exp = true,
            Long("allow-dev") => o.allow_dev = true,
            Long("help") | Short('h') => {
                print!("{USAGE}");
                return Ok(());
            }
            other => return Err(other.unexpected().into()),
        }
    }
    let allowed: &[&str] = match command.as_str() {
        "token" => &["positional", "exp", "iat", "alg", "kid", "key"],
        "server-token" => &["iat", "alg", "kid", "key"],
        "dev-token" => &["positional"],
        "verify" => &["positional", "alg", "kid", "key", "now", "leeway", "require-exp", "allow-dev"],
        "decode" => &["positional"],
        other => return usage(format!("unknown command '{other}'")),
    };
    check_options(&o, allowed)?;
    let mut buf = [0u8; MAX_TOKEN_LEN];
    match command.as_str() {
        "token" => {
            let user_id = user_id_arg("token", o.positional.as_deref())?;
            let now = system_now()?;
            let exp = o.exp.as_deref().map(|s| time_arg("--exp", s, now)).transpose()?;
            let iat = iat_arg(o.iat.as_deref(), now)?;
            let key = key(&o)?;
            let token = key.user_token(user_id, exp, iat, &mut buf).map_err(Failure::Rejected)?;
            if iat.is_none() {
                no_iat_note();
            }
            print_line(token)
        }
        "server-token" => {
            let iat = iat_arg(o.iat.as_deref(), system_now()?)?;
            let key = key(&o)?;
            let token = match iat {
                Some(iat) => key.server_token_with_iat(iat, &mut buf),
                None => key.server_token(&mut buf),
            };
            let token = token.map_err(Failure::Rejected)?;
            if iat.is_none() {
                no_iat_note();
            }
            print_line(token)
        }
        "dev-token" => {
            let user_id = user_id_arg("dev-token", o.positional.as_deref())?;
            print_line(dev_token(user_id, &mut buf).map_err(Failure::Rejected)?)
        }
        "verify" => {
            let key = key(&o)?;
            let token = token_arg(o.positional.as_deref())?;
            let now = match o.now.as_deref() {
                Some(s) => number("--now", s)?,
                None => system_now()?,
            };
            let leeway = o.leeway.as_deref().map(|s| number("--leeway", s)).transpose()?.unwrap_or(0);
            let v = Verifier::new(&key).leeway(leeway).require_exp(o.require_exp).allow_dev_tokens(o.allow_dev);
            let mut scratch = [0u8; VERIFY_SCRATCH_LEN];
            if token.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("bearer ")) {
                return Err(explain(Error::BearerPrefix, &token, &key, now));
            }
            let claims = v.verify(token.as_bytes(), now, &mut scratch).map_err(|e| explain(e, &token, &key, now))?;
            print_line(&terminal_safe(claims.json()))
        }
        _ => {
            let token = token_arg(o.positional.as_deref())?;
            let mut scratch = [0u8; VERIFY_SCRATCH_LEN];
            let t = decode_unverified(token.as_bytes(), &mut scratch).map_err(Failure::Rejected)?;
            eprintln!("note: decoded WITHOUT verifying the signature or any claim");
            print_line(&terminal_safe(&format!("{{\"header\":{},\"claims\":{}}}", t.header, t.claims)))
        }
    }
}

/// Refuses options that the command does not take.
fn check_options(o: &Options, allowed: &[&str]) -> Result<(), Failure> {
    let given = [
        ("positional", o.positional.is_some(), "an argument"),
        ("exp", o.exp.is_some(), "--exp"),
        ("iat", o.iat.is_some(), "--iat"),
        ("alg", o.alg.is_some(), "--alg"),
        ("kid", o.kid.is_some(), "--kid"),
        ("key", o.secret_file.is_some(), "--secret-file"),
        ("key", o.weak_secret, "--weak-secret"),
        ("now", o.now.is_some(), "--now"),
        ("leeway", o.leeway.is_some(), "--leeway"),
        ("require-exp", o.require_exp, "--require-exp"),
        ("allow-dev", o.allow_dev, "--allow-dev"),
    ];
    match given.iter().find(|(name, set, _)| *set && !allowed.contains(name)) {
        Some((_, _, flag)) => usage(format!("this command does not take {flag}")),
        None => Ok(()),
    }
}

/// `--iat`: `now` or Unix seconds.
fn iat_arg(arg: Option<&str>, now: u64) -> Result<Option<u64>, Failure> {
    arg.map(|s| if s == "now" { Ok(now) } else { number("--iat", s) }).transpose()
}

/// Says on stderr (stdout keeps the token alone) what a token without `iat` means.
fn no_iat_note() {
    eprintln!(
        "note: no --iat: a revocation cutoff (revoke_tokens_issued_before) refuses this token whenever it was minted; add --iat now"
    );
}

fn print_line(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").and_then(|()| out.flush()).map_err(|e| Failure::Usage(format!("cannot write output: {e}")))
}

fn system_now() -> Result<u64, Failure> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .map_err(|_| Failure::Rejected(Error::ClockBeforeEpoch))
}

fn number(flag: &str, s: &str) -> Result<u64, Failure> {
    s.parse().map_err(|_| Failure::Usage(format!("{flag} wants a non-negative integer, not '{s}'")))
}

/// The user id argument of `token` and `dev-token`: given and not empty.
fn user_id_arg<'a>(command: &str, arg: Option<&'a str>) -> Result<&'a str, Failure> {
    match arg {
        Some(id) if !id.is_empty() => Ok(id),
        Some(_) => usage(format!("{command} needs a USER_ID, and an empty one is not a user")),
        None => usage(format!("{command} needs a USER_ID")),
    }
}

/// `UNIX` seconds, or `+N[s|m|h|d]` from `now`.
fn time_arg(flag: &str, s: &str, now: u64) -> Result<u64, Failure> {
    let bad = || Failure::Usage(format!("{flag} wants UNIX seconds or +DURATION (90s, 15m, 1h, 7d), not '{s}'"));
    let Some(rel) = s.strip_prefix('+') else {
        return s.parse().map_err(|_| match time_arg(flag, &format!("+{s}"), now) {
            // A duration without its plus: say so.
            Ok(_) => Failure::Usage(format!("{flag} wants UNIX seconds or +DURATION (did you mean +{s}?)")),
            Err(_) if s.starts_with('-') => Failure::Usage(format!(
                "{flag} wants UNIX seconds or +DURATION from now, not '{s}' (no negative times)"
            )),
            Err(_) => bad(),
        });
    };
    let (digits, unit) = match rel.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => rel.split_at(i),
        None => (rel, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    n.checked_mul(scale).and_then(|d| now.checked_add(d)).ok_or_else(bad)
}

fn token_arg(arg: Option<&str>) -> Result<String, Failure> {
    match arg {
        Some(t) if t != "-" => Ok(t.trim().to_owned()),
        _ => {
            use std::io::IsTerminal as _;
            if std::io::stdin().is_terminal() {
                eprintln!("reading a token from standard input (paste it, then press Enter and Ctrl-D)");
            }
            let mut s = String::new();
            std::io::stdin()
                .take(u64::try_from(MAX_TOKEN_LEN).unwrap_or(u64::MAX).saturating_mul(2))
                .read_to_string(&mut s)
                .map_err(|e| Failure::Usage(format!("cannot read the token from standard input: {e}")))?;
            match s.trim() {
                "" => usage("no token given: pass TOKEN, or pipe one into standard input"),
                t => Ok(t.to_owned()),
            }
        }
    }
}

fn key(o: &Options) -> Result<Key, Failure> {
    let alg = match o.alg.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("hs256") => Algorithm::Hs256,
        Some("hs384") => Algorithm::Hs384,
        Some("hs512") => Algorithm::Hs512,
        Some(other) => return usage(format!("--alg must be hs256, hs384 or hs512, not '{other}'")),
    };
    // Every copy of the secret is wiped once the key is built.
    let secret = Zeroizing::new(match &o.secret_file {
        Some(path) => {
            let contents = Zeroizing::new(
                std::fs::read(path).map_err(|e| Failure::Usage(format!("cannot read secret file {path}: {e}")))?,
            );
            secret_from_file(&contents).to_vec()
        }
        None => match std::env::var_os("STREAM_API_SECRET") {
            Some(v) => v.into_encoded_bytes(),
            None => return usage("no secret: set STREAM_API_SECRET or pass --secret-file PATH"),
        },
    });
    let key = if o.weak_secret { Key::new_weak(alg, &secret) } else { Key::new(alg, &secret) };
    let key = key.map_err(|e| match e {
        Error::WeakSecret { min } => {
            Failure::Usage(format!("secret shorter than {min} bytes: use a longer one, or --weak-secret to accept it"))
        }
        other => Failure::Usage(other.to_string()),
    })?;
    match &o.kid {
        Some(kid) => key.with_kid(kid).map_err(|e| Failure::Usage(format!("--kid: {e}"))),
        None => Ok(key),
    }
}

/// `json` as it is safe to show on a terminal, the same JSON value: characters that a
/// terminal shows as something else or not at all (DEL, the C1 controls, bidirectional
/// overrides, isolates and marks, line and paragraph separators) as `\u` escapes inside
/// strings, and carriage returns between tokens as spaces. Valid JSON has no other control
/// characters raw.
fn terminal_safe(json: &str) -> String {
    use core::fmt::Write as _;
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        match c {
            '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            '\r' if !in_string => out.push(' '),
            _ => out.push(c),
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_and_durations() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_796_637_600), "2026-12-07T10:00:00Z");
        assert_eq!(utc(4_102_444_799), "2099-12-31T23:59:59Z");
        assert_eq!([ago(59), ago(60), ago(3_599), ago(10_800), ago(86_400 * 3)], ["59s", "1m", "59m", "3h", "3d"]);
    }
}
