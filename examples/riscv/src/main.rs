//! stackjwt on bare-metal RISC-V (riscv32imc: the core of ESP32-C3 and many others), the same
//! device program as the Cortex-M one (`../cortex-m/src/device.rs`): one function makes the
//! key, mints and verifies with its own 256-byte buffers and feeds bad tokens; its stack is
//! measured by painting, and one sign and one verify by `minstret`, which counts instructions
//! exactly under QEMU's `-icount shift=0`.
//!
//! Run (QEMU virt, semihosting): `cargo run --release [--features sign-only|verify-only]` in
//! this directory, or `./run.sh` for every form with its budget checked.
#![no_std]
#![no_main]

use core::panic::PanicInfo;

use riscv_rt::entry;
use riscv_semihosting::{debug, hio};
#[cfg(feature = "count")]
use stackjwt::{Algorithm, Key};

#[path = "../../cortex-m/src/device.rs"]
mod device;

/// Our own panic handler: the link fails if anything pulls in std, and a panic fails the run.
#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    print(&[b"FAIL: panic\n"]);
    exit(false)
}

fn exit(ok: bool) -> ! {
    debug::exit(if ok { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    loop {
        riscv::asm::wfi();
    }
}

/// Writes to the host's stdout without `core::fmt`.
fn print(parts: &[&[u8]]) {
    if let Ok(mut out) = hio::hstdout() {
        for part in parts {
            let _ = out.write_all(part);
        }
    }
}

fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads the stack pointer register; no memory is touched.
    unsafe { core::arch::asm!("mv {0}, sp", out(reg) sp, options(nomem, nostack)) };
    sp
}

#[cfg(feature = "count")]
/// Instructions `f` executes (minstret, exact under `-icount`; one wrap at most).
fn instructions_of(f: impl FnOnce()) -> usize {
    let start = riscv::register::minstret::read();
    f();
    riscv::register::minstret::read().wrapping_sub(start)
}

#[cfg(feature = "count")]
/// Instructions of one sign and one verify (0 for an operation the build leaves out), each
/// the average of 8 runs.
fn instructions() -> (usize, usize) {
    let Ok(key) = Key::new(Algorithm::Hs256, device::SECRET) else {
        return (0, 0);
    };
    let mut buf = [0u8; 256];
    #[cfg(not(feature = "verify-only"))]
    let sign = instructions_of(|| (0..8).for_each(|_| device::sign_once(&key, &mut buf))) / 8;
    #[cfg(feature = "verify-only")]
    let sign = 0;
    #[cfg(not(feature = "sign-only"))]
    let verify = instructions_of(|| (0..8).for_each(|_| device::verify_once(&key, &mut buf))) / 8;
    #[cfg(feature = "sign-only")]
    let verify = 0;
    (sign, verify)
}

#[entry]
fn main() -> ! {
    let top = stack_pointer();
    let bottom = device::paint(top);
    // The hostile input arrives in a receive buffer outside the measured function.
    let mut received = [0u8; device::LONG_HEADER_LEN];
    device::long_header_token(&mut received);
    let failures = device::device(&received);
    let stack = top - device::lowest_touched(bottom, top);
    // Instruction counts come from a build of their own (`--features count`), so that the
    // measuring code is not in the footprint build's flash.
    #[cfg(feature = "count")]
    let (sign, verify) = instructions();
    #[cfg(not(feature = "count"))]
    let (sign, verify) = (0, 0);
    exit(device::report(failures, stack, sign, verify))
}
