//! The key: caller-owned opaque storage holding a [`stackjwt::Key`], wiped when cleared.

use core::ffi::{c_char, c_int, c_uint};
use core::mem::{align_of, size_of};
use core::ptr;

use stackjwt::{Algorithm, Key};

use crate::codes::{STACKJWT_ERR_INVALID_ARGUMENT, STACKJWT_ERR_NULL_POINTER, STACKJWT_OK, code};
use crate::wipe::scrubbed;
use crate::{input, overlap};

/// Bytes of opaque key storage (`stackjwt_key`, aligned to 16): a marker word, padding to
/// the key's alignment, and the key itself (272 bytes on 64-bit targets, 248 on 32-bit ones).
pub const STACKJWT_KEY_SIZE: usize = 288;

/// Where the key starts in the storage: after the marker, at the key's alignment.
const KEY_OFFSET: usize = 16;

/// The storage in 64-bit words, for wiping.
const KEY_WORDS: usize = STACKJWT_KEY_SIZE / size_of::<u64>();

/// The first word of an initialized key's storage; anything else is refused.
const MAGIC: u64 = 0x7374_6b6a_7774_6b31;

const _: () = assert!(KEY_OFFSET + size_of::<Key>() <= STACKJWT_KEY_SIZE, "grow STACKJWT_KEY_SIZE");
const _: () = assert!(align_of::<Key>() <= KEY_OFFSET && align_of::<stackjwt_key>() == KEY_OFFSET);

/// The HMAC algorithm of a key: `STACKJWT_HS256` is the one Stream uses.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum stackjwt_alg {
    /// HMAC-SHA256.
    STACKJWT_HS256 = 0,
    /// HMAC-SHA384.
    STACKJWT_HS384 = 1,
    /// HMAC-SHA512.
    STACKJWT_HS512 = 2,
}

/// An algorithm as C passes it: the integer behind `stackjwt_alg` (the header names the enum;
/// cbindgen renames this type to it). A C enum can hold any integer, which a Rust enum may not,
/// so the functions take the integer and check it.
pub type AlgArg = c_uint;

/// Caller-owned storage for a key, `STACKJWT_KEY_SIZE` bytes aligned to 16: on the stack, in
/// a static, anywhere. Initialize it with `stackjwt_key_init` (or `_init_weak`), use
/// it by `const` pointer from any number of threads, and wipe it with `stackjwt_key_clear`:
/// its contents (precomputed HMAC states) mint tokens as well as the secret does.
#[repr(C)]
#[repr(align(16))]
pub struct stackjwt_key {
    opaque: [u8; STACKJWT_KEY_SIZE],
}

impl core::fmt::Debug for stackjwt_key {
    /// Never the contents: they are as good as the secret.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("stackjwt_key { .. }")
    }
}

/// Where the key lives inside the storage: at `KEY_OFFSET`, after the marker word.
fn slot(storage: *mut stackjwt_key) -> *mut Key {
    storage.cast::<u8>().wrapping_add(KEY_OFFSET).cast::<Key>()
}

/// The key in `storage`, if it is initialized.
///
/// # Safety
/// Unless NULL, `storage` must point to a `stackjwt_key` that is readable for `'a`, written by
/// this API or zeroed (or otherwise never holding the marker word by chance).
pub(crate) unsafe fn key_ref<'a>(storage: *const stackjwt_key) -> Result<&'a Key, c_int> {
    if storage.is_null() {
        return Err(STACKJWT_ERR_NULL_POINTER);
    }
    // SAFETY: not NULL, and readable per the contract; the marker word is read as a u64.
    if unsafe { ptr::read(storage.cast::<u64>()) } != MAGIC {
        return Err(STACKJWT_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: the marker says `stackjwt_key_init` wrote a valid `Key` at `KEY_OFFSET`, which
    // the storage's own alignment makes suitably aligned (checked at compile time above), and
    // nothing writes it while it is borrowed.
    Ok(unsafe { &*slot(storage.cast_mut()).cast_const() })
}

fn algorithm(alg: AlgArg) -> Option<Algorithm> {
    match alg {
        0 => Some(Algorithm::Hs256),
        1 => Some(Algorithm::Hs384),
        2 => Some(Algorithm::Hs512),
        _ => None,
    }
}

/// # Safety
/// As `stackjwt_key_init`.
unsafe fn init(
    key: *mut stackjwt_key,
    alg: AlgArg,
    secret: *const u8,
    secret_len: usize,
    make: fn(Algorithm, &[u8]) -> Result<Key, stackjwt::Error>,
) -> c_int {
    if key.is_null() {
        return STACKJWT_ERR_NULL_POINTER;
    }
    // Whatever the storage held (an old key included) is gone before anything can fail: a
    // failed init leaves a never-initialized key, not the previous one.
    // SAFETY: `key` is not NULL and points to writable storage, per the contract.
    unsafe { zero(key) };
    // SAFETY: the caller promises `secret_len` readable bytes at `secret`.
    let secret = match unsafe { input(secret, secret_len) } {
        Ok(secret) => secret,
        Err(e) => return e,
    };
    if overlap(secret.as_ptr(), secret.len(), key.cast(), STACKJWT_KEY_SIZE) {
        return STACKJWT_ERR_INVALID_ARGUMENT;
    }
    let Some(alg) = algorithm(alg) else { return STACKJWT_ERR_INVALID_ARGUMENT };
    // The key is built and copied in a frame of its own, whose stack is wiped afterwards.
    scrubbed(|| match make(alg, secret) {
        Ok(made) => {
            // SAFETY: `key` is not NULL and points to writable `stackjwt_key` storage (the
            // caller's promise), aligned to 16 by its type; the key fits at `KEY_OFFSET`
            // (checked at compile time). The storage was zeroed above: nothing is overwritten
            // that needed dropping.
            unsafe {
                ptr::write(slot(key), made);
                ptr::write(key.cast::<u64>(), MAGIC);
            }
            STACKJWT_OK
        }
        Err(e) => code(e),
    })
}

/// Zeroes every word of the storage, marker included, with writes the compiler keeps.
///
/// # Safety
/// `key` must point to writable `stackjwt_key` storage not used meanwhile.
unsafe fn zero(key: *mut stackjwt_key) {
    let words = key.cast::<u64>();
    for i in 0..KEY_WORDS {
        // SAFETY: `i < KEY_WORDS`, inside the storage (aligned to 16, so to 8), per the contract.
        unsafe { ptr::write_volatile(words.wrapping_add(i), 0) };
    }
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
}

/// Makes a key from a secret at least as long as the hash output (32, 48 or 64 bytes, RFC
/// 7518), precomputing its HMAC states. Returns `STACKJWT_ERR_WEAK_SECRET` for a shorter one,
/// `STACKJWT_ERR_EMPTY_SECRET`, `STACKJWT_ERR_INVALID_ARGUMENT` for an unknown `alg` or a
/// secret inside the storage, or `STACKJWT_ERR_NULL_POINTER`. The secret is not kept, and
/// neither is any copy of the key on the stack (wiped before the function returns).
///
/// The storage is wiped first, whatever it held: on any error but a NULL `key` it is left
/// never-initialized (every use gives `STACKJWT_ERR_INVALID_ARGUMENT`), never holding a
/// previous key. Storage must start zeroed (`= {0}`, static, or `stackjwt_key_clear`ed) or
/// hold a key of this API: other bytes may happen to read as an initialized key.
///
/// # Safety
/// `key` must point to writable `stackjwt_key` storage; `secret` to `secret_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn stackjwt_key_init(
    key: *mut stackjwt_key,
    alg: AlgArg,
    secret: *const u8,
    secret_len: usize,
) -> c_int {
    // SAFETY: the same contract, passed on.
    unsafe { init(key, alg, secret, secret_len, Key::new) }
}

/// Like `stackjwt_key_init`, accepting any non-empty secret: an explicit opt-in for legacy
/// short secrets.
///
/// # Safety
/// As `stackjwt_key_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn stackjwt_key_init_weak(
    key: *mut stackjwt_key,
    alg: AlgArg,
    secret: *const u8,
    secret_len: usize,
) -> c_int {
    // SAFETY: the same contract, passed on.
    unsafe { init(key, alg, secret, secret_len, Key::new_weak) }
}

/// Sets the key id written into minted headers (and required of tokens that name one): 1 to
/// 64 printable ASCII bytes without `"` and `\`. On error the key is unchanged.
///
/// # Safety
/// `key` must point to an initialized key not used by another thread meanwhile; `kid` to
/// `kid_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn stackjwt_key_set_kid(key: *mut stackjwt_key, kid: *const c_char, kid_len: usize) -> c_int {
    // SAFETY: `kid_len` readable bytes at `kid`, per the contract.
    let kid = match unsafe { input(kid.cast(), kid_len) } {
        Ok(kid) => kid,
        Err(e) => return e,
    };
    // SAFETY: as `key_ref`'s contract, which this function's contract includes.
    if let Err(e) = unsafe { key_ref(key) } {
        return e;
    }
    let Ok(kid) = core::str::from_utf8(kid) else { return STACKJWT_ERR_INVALID_ARGUMENT };
    // The key is copied on the way (the core's `with_kid` takes it by value): in a frame of
    // its own, whose stack is wiped afterwards.
    scrubbed(|| {
        // SAFETY: initialized (checked above); this shared borrow ends before the write below.
        let updated = unsafe { &*slot(key) }.clone().with_kid(kid);
        match updated {
            Ok(updated) => {
                // SAFETY: the key is initialized (checked above) and not shared meanwhile (the
                // contract), so it can be replaced in place; the old value is dropped (wiped).
                unsafe { *slot(key) = updated };
                STACKJWT_OK
            }
            Err(e) => code(e),
        }
    })
}

/// Wipes the key (its HMAC states, then every byte of the storage, marker included); it must
/// be initialized again before any use. A NULL or never-initialized key is left as is.
///
/// # Safety
/// Unless NULL, `key` must point to writable `stackjwt_key` storage not used meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn stackjwt_key_clear(key: *mut stackjwt_key) {
    // SAFETY: as `key_ref`'s contract.
    if unsafe { key_ref(key) }.is_err() {
        return;
    }
    // SAFETY: the key is initialized (checked above) and unshared: dropping it in place wipes
    // its HMAC states (the `zeroize` feature), then every word of the storage is zeroed.
    unsafe {
        ptr::drop_in_place(slot(key));
        zero(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::*;

    fn zeroed() -> stackjwt_key {
        stackjwt_key { opaque: [0; STACKJWT_KEY_SIZE] }
    }

    #[test]
    fn init_set_kid_clear() {
        let mut k = zeroed();
        let secret = [7u8; 32];
        // SAFETY: (all calls below) pointers to live locals of the stated lengths.
        unsafe {
            assert_eq!(key_ref(&k).err(), Some(STACKJWT_ERR_INVALID_ARGUMENT), "never initialized");
            assert_eq!(
                stackjwt_key_init(&mut k, stackjwt_alg::STACKJWT_HS256 as AlgArg, secret.as_ptr(), 31),
                STACKJWT_ERR_WEAK_SECRET
            );
            assert_eq!(
                stackjwt_key_init(&mut k, stackjwt_alg::STACKJWT_HS256 as AlgArg, secret.as_ptr(), 0),
                STACKJWT_ERR_EMPTY_SECRET
            );
            assert_eq!(
                stackjwt_key_init(&mut k, stackjwt_alg::STACKJWT_HS256 as AlgArg, ptr::null(), 32),
                STACKJWT_ERR_NULL_POINTER
            );
            assert_eq!(
                stackjwt_key_init(ptr::null_mut(), stackjwt_alg::STACKJWT_HS256 as AlgArg, secret.as_ptr(), 32),
                STACKJWT_ERR_NULL_POINTER
            );
            assert_eq!(init(&mut k, 3, secret.as_ptr(), 32, Key::new), STACKJWT_ERR_INVALID_ARGUMENT);
            assert!(key_ref(&k).is_err(), "failed inits leave the storage alone");
            assert_eq!(
                stackjwt_key_init_weak(&mut k, stackjwt_alg::STACKJWT_HS384 as AlgArg, secret.as_ptr(), 5),
                STACKJWT_OK
            );
            assert_eq!(key_ref(&k).map(Key::algorithm), Ok(Algorithm::Hs384));
            assert_eq!(
                stackjwt_key_init(&mut k, stackjwt_alg::STACKJWT_HS256 as AlgArg, secret.as_ptr(), 32),
                STACKJWT_OK
            );
            assert_eq!(stackjwt_key_set_kid(&mut k, c"2026-11".as_ptr(), 7), STACKJWT_OK);
            assert_eq!(key_ref(&k).map(Key::kid), Ok(Some("2026-11")));
            assert_eq!(stackjwt_key_set_kid(&mut k, c"a b".as_ptr(), 3), STACKJWT_ERR_INVALID_KID);
            assert_eq!(stackjwt_key_set_kid(&mut k, c"\xff".as_ptr(), 1), STACKJWT_ERR_INVALID_ARGUMENT);
            assert_eq!(stackjwt_key_set_kid(&mut k, ptr::null(), 1), STACKJWT_ERR_NULL_POINTER);
            assert_eq!(key_ref(&k).map(Key::kid), Ok(Some("2026-11")), "unchanged after a refused kid");
            extern crate std;
            assert_eq!(std::format!("{k:?}"), "stackjwt_key { .. }", "never the contents");
            stackjwt_key_clear(&mut k);
            assert!(k.opaque.iter().all(|&w| w == 0));
            assert_eq!(key_ref(&k).err(), Some(STACKJWT_ERR_INVALID_ARGUMENT));
            stackjwt_key_clear(&mut k);
            stackjwt_key_clear(ptr::null_mut());
        }
    }

    /// The SHA-256 states an HS256 key derives from `secret` (ipad and opad blocks), as the
    /// bytes they occupy in memory (as the core's wipe test finds them).
    fn keyed_states(secret: &[u8]) -> [[u8; 32]; 2] {
        const IV: [u32; 8] =
            [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
        [0x36u8, 0x5c].map(|pad| {
            let mut block = [pad; 64];
            block.iter_mut().zip(secret).for_each(|(b, s)| *b ^= s);
            let mut state = IV;
            sha2::block_api::compress256(&mut state, &[block]);
            let mut bytes = [0u8; 32];
            bytes.chunks_exact_mut(4).zip(state).for_each(|(b, w)| b.copy_from_slice(&w.to_ne_bytes()));
            bytes
        })
    }

    fn holds(haystack: &[u8], needle: &[u8; 32]) -> bool {
        haystack.windows(32).any(|w| w == needle)
    }

    /// The stack below the caller's frame, as the calls before left it: read with volatile
    /// loads from a fresh frame twice the scrubbed size. Reading bytes nobody initialized is
    /// what this test is about, so it does not run under miri.
    #[inline(never)]
    fn stack_below() -> [u8; 2 * crate::wipe::SCRUB_BYTES] {
        let area = core::mem::MaybeUninit::<[u8; 2 * crate::wipe::SCRUB_BYTES]>::uninit();
        let base = area.as_ptr().cast::<u8>();
        // SAFETY: every index is inside `area`; the bytes may be uninitialized, which the
        // volatile reads take as they are (a test of what the stack holds, off under miri).
        core::array::from_fn(|i| unsafe { base.add(i).read_volatile() })
    }

    /// After init, set_kid and clear, the key's HMAC states are nowhere: not in the storage,
    /// not on the stack that the calls used. Without the scrubbing the built key's copy is
    /// found there (checked by calling the same code unscrubbed).
    #[test]
    #[cfg_attr(miri, ignore = "reads the uninitialized stack on purpose")]
    fn no_copy_of_the_key_outlives_clear() {
        let secret = [0x42u8; 32];
        let states = keyed_states(&secret);
        let mut k = zeroed();
        // SAFETY: (all calls below) pointers to live locals of the stated lengths.
        unsafe {
            assert_eq!(stackjwt_key_init(&mut k, 0, secret.as_ptr(), 32), STACKJWT_OK);
            assert!(states.iter().all(|s| holds(&k.opaque, s)), "the search finds the live states");
            assert_eq!(stackjwt_key_set_kid(&mut k, c"2026-12".as_ptr(), 7), STACKJWT_OK);
            stackjwt_key_clear(&mut k);
        }
        assert!(k.opaque.iter().all(|&b| b == 0));
        let stack = stack_below();
        assert!(!states.iter().any(|s| holds(&stack, s)), "a keyed state survived on the stack");

        // The same work without the scrub, in a frame below this one as the API's is, leaves
        // the key's states on the stack: the search would see them.
        let mut unscrubbed = zeroed();
        init_unscrubbed(&mut unscrubbed, &secret);
        let stack = stack_below();
        assert!(states.iter().any(|s| holds(&stack, s)), "the scan sees copies left on the stack");
    }

    /// Builds a key into `storage` as `init` does, then wipes it in place as
    /// `stackjwt_key_clear` does, but leaves the stack as it is.
    #[inline(never)]
    fn init_unscrubbed(storage: &mut stackjwt_key, secret: &[u8]) {
        let made = core::hint::black_box(Key::new(Algorithm::Hs256, secret)).unwrap();
        // SAFETY: zeroed storage of the right size and alignment; the key is dropped once.
        unsafe {
            ptr::write(slot(storage), made);
            ptr::drop_in_place(slot(storage));
        }
        storage.opaque.fill(0);
    }
}
