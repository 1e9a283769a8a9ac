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
  stackjwt server-token [--alg ALG] [--kid KID]
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
        Err(Failure::Rejected(e)) => {
            match e.stream_code() {
                Some(code) => eprintln!("error: {e} (stream code {code})"),
                None => eprintln!("error: {e}"),
            }
            ExitCode::from(1)
        }
    }
}

fn run() -> Result<(), Failure> {
    let mut args = lexopt::Parser::from_env();
    let command = match args.next()? {
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
        None => return usage("no command given"),
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
        "server-token" => &["alg", "kid", "key"],
        "dev-token" => &["positional"],
        "verify" => &["positional", "alg", "kid", "key", "now", "leeway", "require-exp", "allow-dev"],
        "decode" => &["positional"],
        other => return usage(format!("unknown command '{other}'")),
    };
    check_options(&o, allowed)?;
    let mut buf = [0u8; MAX_TOKEN_LEN];
    match command.as_str() {
        "token" => {
            let user_id = o.positional.as_deref().ok_or(Failure::Usage("token needs a USER_ID".into()))?;
            let now = system_now()?;
            let exp = o.exp.as_deref().map(|s| time_arg("--exp", s, now)).transpose()?;
            let iat = o.iat.as_deref().map(|s| if s == "now" { Ok(now) } else { number("--iat", s) }).transpose()?;
            let key = key(&o)?;
            print_line(key.user_token(user_id, exp, iat, &mut buf).map_err(Failure::Rejected)?)
        }
        "server-token" => print_line(key(&o)?.server_token(&mut buf).map_err(Failure::Rejected)?),
        "dev-token" => {
            let user_id = o.positional.as_deref().ok_or(Failure::Usage("dev-token needs a USER_ID".into()))?;
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
            let claims = v.verify(token.as_bytes(), now, &mut scratch).map_err(Failure::Rejected)?;
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

/// `UNIX` seconds, or `+N[s|m|h|d]` from `now`.
fn time_arg(flag: &str, s: &str, now: u64) -> Result<u64, Failure> {
    let Some(rel) = s.strip_prefix('+') else { return number(flag, s) };
    let bad = || Failure::Usage(format!("{flag} wants UNIX seconds or +DURATION (90s, 15m, 1h, 7d), not '{s}'"));
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
            let mut s = String::new();
            std::io::stdin()
                .take(u64::try_from(MAX_TOKEN_LEN).unwrap_or(u64::MAX).saturating_mul(2))
                .read_to_string(&mut s)
                .map_err(|e| Failure::Usage(format!("cannot read the token from standard input: {e}")))?;
            Ok(s.trim().to_owned())
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
