//! stackjwt on a bare-metal Cortex-M3: mints a Stream user token and a server token, verifies
//! them, rejects a tampered, an expired and an `alg: none` token, checks a token made by
//! Stream's JS SDK, and measures the stack that sign + verify use (painted stack, high-water
//! mark) and the flash the program occupies. Exits through semihosting with the result.
//!
//! Run (QEMU's lm3s6965evb): `cargo run --release` in this directory. It prints
//! `flash=N stack=N key=N` (bytes) and `PASS`, and exits 0, or exits 1.
#![no_std]
#![no_main]

use core::panic::PanicInfo;

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hio};
use lm3s6965 as _; // the device crate: its interrupt vector table
use stackjwt::{Algorithm, Error, Key, Verifier};

/// Our own panic handler: the link fails if anything pulls in std, and a panic fails the run.
#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    print(&[b"FAIL: panic\n"]);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

/// Writes to the host's stdout without `core::fmt`, which would otherwise be most of the
/// program's own flash.
fn print(parts: &[&[u8]]) {
    if let Ok(mut out) = hio::hstdout() {
        for part in parts {
            let _ = out.write_all(part);
        }
    }
}

/// `n` in decimal, in `buf`.
fn decimal(mut n: usize, buf: &mut [u8; 10]) -> &[u8] {
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

/// The long secret of the JS SDK vectors (tests/data/hs256_stream_js.jsonl).
const SECRET: &[u8] = b"8hz7kq2wm4xd9v6bn3tj5yr1pc0fa7eu4sg2lh8zk6wq3xm9vd5bt1nj7rc4yp0f";
/// `createToken("john", 1700000000, 1600000000)` of Stream's JS SDK with that secret.
const SDK_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiam9obiIsImV4cCI6MTcwMDAwMDAwMCwiaWF0IjoxNjAwMDAwMDAwfQ.dxMRiyBtBACQs_Pw_iVwRUq0aloMnJ8E8xo6r9kxUYs";
/// `{"alg":"none","typ":"JWT"}.{"user_id":"john"}.` with a plausible signature.
const ALG_NONE: &str =
    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ1c2VyX2lkIjoiam9obiJ9.dxMRiyBtBACQs_Pw_iVwRUq0aloMnJ8E8xo6r9kxUYs";

const NOW: u64 = 1_650_000_000;
const PATTERN: u32 = 0x5AFE_C0DE;
/// Bytes of stack painted below the caller before the measured run.
const PAINT: usize = 8 * 1024;

/// Reports a failed check.
fn check(ok: bool, what: &str) -> u32 {
    if ok {
        0
    } else {
        print(&[b"FAIL: ", what.as_bytes(), b"\n"]);
        1
    }
}

/// Everything the run checks; returns the number of failed checks. The program's own 512
/// bytes of buffers (256 for tokens, 256 of scratch) live on this frame; signing and
/// verifying run in their own frames below it, as in a device's firmware.
#[inline(never)]
fn sign_and_verify(key: &Key) -> u32 {
    let mut buf = [0u8; 256];
    let mut scratch = [0u8; 256];
    signing(key, &mut buf) + verifying(key, &mut buf, &mut scratch)
}

#[inline(never)]
fn signing(key: &Key, buf: &mut [u8; 256]) -> u32 {
    let minted = key.user_token("john", Some(1_700_000_000), Some(1_600_000_000), buf);
    check(minted.is_ok_and(|t| t == SDK_TOKEN), "user token equals the JS SDK's")
}

#[inline(never)]
fn verifying(key: &Key, buf: &mut [u8; 256], scratch: &mut [u8; 256]) -> u32 {
    let verifier = Verifier::new(key).leeway(30);
    let mut failures = 0;
    let ok = verifier.verify(SDK_TOKEN, NOW, scratch).is_ok_and(|c| c.user_id() == Some("john"));
    failures += check(ok, "SDK token verifies");

    let len = SDK_TOKEN.len();
    buf[..len].copy_from_slice(SDK_TOKEN.as_bytes());
    buf[40] ^= 1;
    let tampered = matches!(verifier.verify(&buf[..len], NOW, scratch), Err(Error::SignatureMismatch));
    failures += check(tampered, "tampered rejected");
    let expired = matches!(verifier.verify(SDK_TOKEN, 1_800_000_000, scratch), Err(Error::Expired));
    failures += check(expired, "expired rejected");
    let none = matches!(verifier.verify(ALG_NONE, NOW, scratch), Err(Error::AlgorithmNotAllowed));
    failures += check(none, "alg none rejected");

    let server = match key.server_token(buf) {
        Ok(token) => verifier.verify(token, NOW, scratch).is_ok_and(|c| c.is_server()),
        Err(_) => false,
    };
    failures + check(server, "server token verifies")
}

unsafe extern "C" {
    static __sidata: u32; // load address of .data in flash: end of .vector_table, .text, .rodata
    static __sdata: u32;
    static __edata: u32;
}

/// Paints `PAINT` bytes below the current stack pointer with `PATTERN`.
#[inline(never)]
fn paint() -> usize {
    let sp = cortex_m::register::msp::read() as usize;
    let bottom = sp - 64 - PAINT;
    let mut p = bottom;
    while p < sp - 64 {
        // SAFETY: unused stack below this frame (64 bytes of margin), inside RAM; nothing
        // else runs (no interrupts are enabled).
        unsafe { core::ptr::write_volatile(p as *mut u32, PATTERN) };
        p += 4;
    }
    bottom
}

/// The lowest painted address whose pattern was overwritten.
#[inline(never)]
fn lowest_touched(bottom: usize, top: usize) -> usize {
    let mut p = bottom;
    // SAFETY: reads the region `paint` wrote.
    while p < top && unsafe { core::ptr::read_volatile(p as *const u32) } == PATTERN {
        p += 4;
    }
    p
}

#[entry]
fn main() -> ! {
    // The key lives as long as the program (as in a device's firmware); it is made before the
    // measurement, and its size is printed on its own.
    let Ok(key) = Key::new(Algorithm::Hs256, SECRET) else {
        print(&[b"FAIL: key\n"]);
        debug::exit(debug::EXIT_FAILURE);
        loop {
            cortex_m::asm::wfi();
        }
    };
    let top = cortex_m::register::msp::read() as usize;
    let bottom = paint();
    let failures = sign_and_verify(&key);
    let stack = top - lowest_touched(bottom, top);
    // Addresses of linker symbols only; nothing is read through them.
    let data = (&raw const __edata) as usize - (&raw const __sdata) as usize;
    let flash = (&raw const __sidata) as usize + data;
    // flash: bytes of flash used; stack: high-water mark of sign + verify, the program's 512
    // bytes of buffers included; key: size of the long-lived `Key`.
    let (mut a, mut b, mut c) = ([0u8; 10], [0u8; 10], [0u8; 10]);
    let key_size = core::mem::size_of::<Key>();
    print(&[
        b"flash=",
        decimal(flash, &mut a),
        b" stack=",
        decimal(stack, &mut b),
        b" key=",
        decimal(key_size, &mut c),
        b"\n",
    ]);
    if failures == 0 {
        print(&[b"PASS\n"]);
        debug::exit(debug::EXIT_SUCCESS);
    } else {
        print(&[b"FAIL\n"]);
        debug::exit(debug::EXIT_FAILURE);
    }
    loop {
        cortex_m::asm::wfi();
    }
}
