//! What the bare-metal programs (Cortex-M here, RISC-V in `../riscv`) run and measure, the
//! same on every target: a device's function that makes its key, mints and verifies with its
//! own 256-byte buffers and feeds bad tokens, and the instruction-count workloads. The
//! platform provides `print`.

use core::hint::black_box;

use stackjwt::{Algorithm, Error, Key};
#[cfg(not(feature = "sign-only"))]
use stackjwt::{Segment, Verifier};

use crate::print;

/// The long secret of the JS SDK vectors (tests/data/hs256_stream_js.jsonl).
pub const SECRET: &[u8] = b"8hz7kq2wm4xd9v6bn3tj5yr1pc0fa7eu4sg2lh8zk6wq3xm9vd5bt1nj7rc4yp0f";
/// `createToken("john", 1700000000, 1600000000)` of Stream's JS SDK with that secret.
pub const SDK_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiam9obiIsImV4cCI6MTcwMDAwMDAwMCwiaWF0IjoxNjAwMDAwMDAwfQ.dxMRiyBtBACQs_Pw_iVwRUq0aloMnJ8E8xo6r9kxUYs";
/// `createToken("john")` of Stream's JS SDK with that secret: no `exp`.
#[cfg(not(feature = "sign-only"))]
const SDK_TOKEN_NO_EXP: &str =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiam9obiJ9.CXZll3MK_Bw66Ypy6EaQirTJW15E5JmxMGK8zX6Htb8";
/// The length of a token with a 520-character header segment (over `MAX_HEADER_LEN`).
pub const LONG_HEADER_LEN: usize = 524;

/// Turns `received` (zeros) into a token with a 520-byte header segment, refused before it is
/// decoded: built at run time, as a device receives input into a buffer of its own, rather
/// than kept in flash.
pub fn long_header_token(received: &mut [u8; LONG_HEADER_LEN]) {
    received[520] = b'.';
    received[522] = b'.';
}
/// `{"alg":"none","typ":"JWT"}.{"user_id":"john"}.` with a plausible signature.
#[cfg(not(feature = "sign-only"))]
const ALG_NONE: &str =
    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ1c2VyX2lkIjoiam9obiJ9.dxMRiyBtBACQs_Pw_iVwRUq0aloMnJ8E8xo6r9kxUYs";

#[cfg(not(feature = "sign-only"))]
pub const NOW: u64 = 1_650_000_000;

/// Reports a failed check.
pub fn check(ok: bool, what: &str) -> u32 {
    if ok {
        0
    } else {
        print(&[b"FAIL: ", what.as_bytes(), b"\n"]);
        1
    }
}

/// What a device does, measured as one: makes its key, and signs and/or verifies with its
/// own 256-byte token and scratch buffers; `received` is a hostile token (over-long header)
/// that arrived in the caller's receive buffer. Returns the number of failed checks.
#[inline(never)]
pub fn device(#[cfg_attr(feature = "sign-only", allow(unused))] received: &[u8]) -> u32 {
    let Ok(key) = Key::new(Algorithm::Hs256, SECRET) else {
        return check(false, "key");
    };
    let mut buf = [0u8; 256];
    let mut failures = 0;
    #[cfg(not(feature = "verify-only"))]
    {
        failures += signing(&key, &mut buf);
    }
    #[cfg(not(feature = "sign-only"))]
    {
        let mut scratch = [0u8; 256];
        failures += verifying(&key, &mut buf, &mut scratch, received);
    }
    failures + check(black_box(&buf).len() == 256, "buffer")
}

#[cfg(not(feature = "verify-only"))]
#[inline(never)]
fn signing(key: &Key, buf: &mut [u8; 256]) -> u32 {
    let minted = key.user_token("john", Some(1_700_000_000), Some(1_600_000_000), buf);
    let mut failures = check(minted.is_ok_and(|t| t == SDK_TOKEN), "user token equals the JS SDK's");
    let empty = matches!(key.user_token("", None, None, buf), Err(Error::EmptyUserId));
    failures += check(empty, "empty user id refused");
    let short =
        matches!(key.user_token("john", None, None, &mut buf[..40]), Err(Error::BufferTooSmall { needed: 105 }));
    failures + check(short, "short buffer refused with the length needed")
}

#[cfg(not(feature = "sign-only"))]
#[inline(never)]
fn verifying(key: &Key, buf: &mut [u8; 256], scratch: &mut [u8; 256], received: &[u8]) -> u32 {
    let verifier = Verifier::new(key).leeway(30).require_exp(true);
    let ok = verifier.verify(SDK_TOKEN, NOW, scratch).is_ok_and(|c| c.user_id() == Some("john"));
    let mut failures = check(ok, "SDK token verifies");

    let len = SDK_TOKEN.len();
    buf[..len].copy_from_slice(SDK_TOKEN.as_bytes());
    buf[40] ^= 1;
    let tampered = matches!(verifier.verify(&buf[..len], NOW, scratch), Err(Error::SignatureMismatch));
    failures += check(tampered, "tampered rejected");
    let expired = matches!(verifier.verify(SDK_TOKEN, 1_800_000_000, scratch), Err(Error::Expired));
    failures += check(expired, "expired rejected");
    let none = matches!(verifier.verify(ALG_NONE, NOW, scratch), Err(Error::AlgorithmNotAllowed));
    failures += check(none, "alg none rejected");
    let long = matches!(verifier.verify(received, NOW, scratch), Err(Error::HeaderTooLong));
    failures += check(long, "over-long header rejected");
    let garbage = matches!(
        verifier.verify(b"\xff\x00garbage.\x01.\x02", NOW, scratch),
        Err(Error::InvalidBase64 { segment: Segment::Header })
    );
    failures += check(garbage, "garbage rejected");
    let no_exp = matches!(verifier.verify(SDK_TOKEN_NO_EXP, NOW, scratch), Err(Error::MissingExp));
    failures + check(no_exp, "token without exp rejected (require_exp)")
}

/// One sign: the JS SDK's user token. What the instruction counts measure.
#[cfg(all(feature = "count", not(feature = "verify-only")))]
#[inline(never)]
pub fn sign_once(key: &Key, buf: &mut [u8; 256]) {
    let _ = black_box(key.user_token("john", Some(1_700_000_000), Some(1_600_000_000), buf));
}

/// One verify of the JS SDK's token with `require_exp`, as the device does.
#[cfg(all(feature = "count", not(feature = "sign-only")))]
#[inline(never)]
pub fn verify_once(key: &Key, scratch: &mut [u8; 256]) {
    let verifier = Verifier::new(key).leeway(30).require_exp(true);
    let _ = black_box(verifier.verify(black_box(SDK_TOKEN), NOW, scratch));
}

/// `n` in decimal, in `buf`.
pub fn decimal(mut n: usize, buf: &mut [u8; 10]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// Prints the figures and the verdict; returns whether every check passed.
pub fn report(failures: u32, stack: usize, sign: usize, verify: usize) -> bool {
    let mut n = [[0u8; 10]; 4];
    let [a, b, c, d] = &mut n;
    print(&[
        b"stack=",
        decimal(stack, a),
        b" key=",
        decimal(core::mem::size_of::<Key>(), b),
        b" sign_insns=",
        decimal(sign, c),
        b" verify_insns=",
        decimal(verify, d),
        b"\n",
    ]);
    print(&[if failures == 0 { b"PASS\n" } else { b"FAIL\n" }]);
    failures == 0
}

const PATTERN: u32 = 0x5AFE_C0DE;
/// Bytes of stack painted below the caller before the measured run.
const PAINT: usize = 8 * 1024;

/// Paints `PAINT` bytes below `sp` (the caller's stack pointer) with `PATTERN`; returns the
/// lowest painted address.
#[inline(never)]
pub fn paint(sp: usize) -> usize {
    let bottom = sp - 64 - PAINT;
    let mut p = bottom;
    while p < sp - 64 {
        // SAFETY: unused stack below the caller's frame (64 bytes of margin, more than this
        // function's own frame), inside RAM; nothing else runs (no interrupts are enabled).
        unsafe { core::ptr::write_volatile(p as *mut u32, PATTERN) };
        p += 4;
    }
    bottom
}

/// The lowest address between `bottom` and `top` whose paint was overwritten.
#[inline(never)]
pub fn lowest_touched(bottom: usize, top: usize) -> usize {
    let mut p = bottom;
    // SAFETY: reads the region `paint` wrote.
    while p < top && unsafe { core::ptr::read_volatile(p as *const u32) } == PATTERN {
        p += 4;
    }
    p
}
