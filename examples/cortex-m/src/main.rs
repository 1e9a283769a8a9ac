//! stackjwt on a bare-metal Cortex-M3, written as a device's firmware would be: one function
//! makes the `Key`, mints a Stream user token and verifies tokens with 256-byte token and
//! scratch buffers of its own, and the program measures that function's stack (painted stack,
//! high-water mark, key and buffers included), the flash it occupies, and the instructions one
//! sign and one verify execute. Exits through semihosting with the result.
//!
//! Three builds: the full program (default), `--features sign-only` (a device that only mints
//! its own token) and `--features verify-only` (a gateway MCU that only checks tokens).
//!
//! Run (QEMU's lm3s6965evb, `-icount shift=0` so that virtual time counts instructions):
//! `cargo run --release [--features sign-only|verify-only]` in this directory, or `./run.sh`
//! for every build with its budget checked. It prints
//! `stack=N key=N sign_insns=N verify_insns=N` and `PASS`, and exits 0, or exits 1; `run.sh`
//! adds the flash the ELF occupies.
#![no_std]
#![no_main]

use core::panic::PanicInfo;

#[cfg(feature = "count")]
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hio};
use lm3s6965 as _; // the device crate: its interrupt vector table
#[cfg(feature = "count")]
use stackjwt::{Algorithm, Key};

/// Our own panic handler: the link fails if anything pulls in std, and a panic fails the run.
#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    print(&[b"FAIL: panic\n"]);
    exit(false)
}

fn exit(ok: bool) -> ! {
    debug::exit(if ok { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
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

mod device;

#[cfg(feature = "count")]
/// SysTick, free-running on the core clock. Under `-icount shift=0` QEMU's virtual time
/// advances one nanosecond per instruction, so ticks convert to instructions by a factor
/// `calibrate` measures on a loop of known length.
struct Ticks(cortex_m::peripheral::SYST);

#[cfg(feature = "count")]
impl Ticks {
    const MAX: u32 = 0x00FF_FFFF;

    fn start(mut syst: cortex_m::peripheral::SYST) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(Self::MAX);
        syst.clear_current();
        syst.enable_counter();
        Self(syst)
    }

    /// Ticks `f` takes (SysTick counts down; one wrap at most).
    fn time(&self, f: impl FnOnce()) -> u32 {
        let start = cortex_m::peripheral::SYST::get_current();
        f();
        let end = cortex_m::peripheral::SYST::get_current();
        start.wrapping_sub(end) & Self::MAX
    }
}

#[cfg(feature = "count")]
/// Ticks of a loop of exactly 2 instructions per iteration, `CALIBRATION` instructions in all.
const CALIBRATION: u32 = 400_000;

#[cfg(feature = "count")]
fn calibrate(t: &Ticks) -> u32 {
    t.time(|| {
        // SAFETY: a register-only countdown loop (subs + bne).
        unsafe {
            core::arch::asm!("2:", "subs {0}, #1", "bne 2b", inout(reg) CALIBRATION / 2 => _, options(nomem, nostack));
        }
    })
}

#[cfg(feature = "count")]
/// Instructions of one sign and one verify (0 for an operation the build leaves out), each
/// the average of 8 runs. All in 32-bit arithmetic: no 64-bit division routine in flash.
fn instructions(t: &Ticks) -> (usize, usize) {
    let calibration = calibrate(t).max(1);
    let insns = |ticks: u32| (ticks.saturating_mul(CALIBRATION / 8 / 100) / calibration.div_ceil(100).max(1)) as usize;
    let Ok(key) = Key::new(Algorithm::Hs256, device::SECRET) else {
        return (0, 0);
    };
    let mut buf = [0u8; 256];
    #[cfg(not(feature = "verify-only"))]
    let sign = insns(t.time(|| (0..8).for_each(|_| device::sign_once(&key, &mut buf))));
    #[cfg(feature = "verify-only")]
    let sign = 0;
    #[cfg(not(feature = "sign-only"))]
    let verify = insns(t.time(|| (0..8).for_each(|_| device::verify_once(&key, &mut buf))));
    #[cfg(feature = "sign-only")]
    let verify = 0;
    (sign, verify)
}

#[entry]
fn main() -> ! {
    #[cfg_attr(not(feature = "count"), allow(unused))]
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        print(&[b"FAIL: peripherals\n"]);
        exit(false)
    };
    let top = cortex_m::register::msp::read() as usize;
    let bottom = device::paint(top);
    // The hostile input arrives in a receive buffer outside the measured function.
    let mut received = [0u8; device::LONG_HEADER_LEN];
    device::long_header_token(&mut received);
    let failures = device::device(&received);
    let stack = top - device::lowest_touched(bottom, top);
    // Instruction counts come from a build of their own (`--features count`), so that the
    // measuring code is not in the footprint build's flash.
    #[cfg(feature = "count")]
    let (sign, verify) = instructions(&Ticks::start(peripherals.SYST));
    #[cfg(not(feature = "count"))]
    let (sign, verify) = (0, 0);
    exit(device::report(failures, stack, sign, verify))
}
