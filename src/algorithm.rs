//! The three HMAC algorithms of RFC 7518 section 3.2 and the keyed MAC state behind them.

/// The largest MAC output in bytes (HS512).
pub(crate) const MAX_MAC_LEN: usize = 64;

/// An HMAC JWS algorithm. The verifier takes it from the [`Key`](crate::Key), never from a
/// token's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// HMAC with SHA-256 (`HS256`), the one Stream uses.
    Hs256,
    /// HMAC with SHA-384 (`HS384`).
    Hs384,
    /// HMAC with SHA-512 (`HS512`).
    Hs512,
}

impl Algorithm {
    /// The `alg` header value: `"HS256"`, `"HS384"` or `"HS512"`.
    ///
    /// ```
    /// assert_eq!(stackjwt::Algorithm::Hs384.name(), "HS384");
    /// ```
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Hs384 => "HS384",
            Self::Hs512 => "HS512",
        }
    }

    /// The MAC length in bytes, which is also the minimum secret length of [`Key::new`](crate::Key::new).
    #[must_use]
    pub const fn mac_len(self) -> usize {
        match self {
            Self::Hs256 => 32,
            Self::Hs384 => 48,
            Self::Hs512 => 64,
        }
    }

    /// The header segment minted for keys without a kid: base64url of
    /// `{"alg":"HS256","typ":"JWT"}` (the JS SDK's bytes) or its HS384/HS512 form.
    pub(crate) const fn header_segment(self) -> &'static [u8] {
        match self.known_header_segments() {
            [minted, ..] => minted,
        }
    }

    /// Header segments that official SDKs mint for this algorithm without a kid, each valid
    /// for a key without kid and read without decoding: the one this crate mints (JS, Go,
    /// Python, .NET, Java: `{"alg":..,"typ":"JWT"}`), PHP's `{"typ":"JWT","alg":..}` and
    /// Ruby's `{"alg":..}`.
    pub(crate) const fn known_header_segments(self) -> &'static [&'static [u8]; 3] {
        match self {
            Self::Hs256 => &[
                b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
                b"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9",
                b"eyJhbGciOiJIUzI1NiJ9",
            ],
            Self::Hs384 => &[
                b"eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9",
                b"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzM4NCJ9",
                b"eyJhbGciOiJIUzM4NCJ9",
            ],
            Self::Hs512 => &[
                b"eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9",
                b"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9",
                b"eyJhbGciOiJIUzUxMiJ9",
            ],
        }
    }

    /// The length of the signature segment: the MAC in base64url without padding.
    #[must_use]
    pub const fn signature_len(self) -> usize {
        crate::base64::encoded_len(self.mac_len())
    }
}

/// A keyed HMAC state: the hash states after the key's inner and outer pad blocks (HMAC's key
/// schedule, computed once per key). Each MAC starts from a copy of them, so a key holds 64
/// bytes of state for HS256 and 128 for HS384/HS512.
///
/// HMAC is computed here on the SHA-2 compression functions of the `sha2` crate: the whole
/// blocks of the message are compressed where they are, the last one or two are padded in a
/// small array, and the outer hash is one more block; no block buffer, no wrapper types, no
/// state copies beyond the 32- or 64-byte working state (measured: the `hmac` crate's
/// `Hmac<Sha256>` over a 110-byte token costs about a quarter more, see `benches/tokens.rs`).
/// Tested against Wycheproof's HMAC vectors, RFC 7515's, and tokens of Stream's SDK.
///
/// The operations go through a table chosen when the key is made, not through a `match` on
/// the algorithm: a program that only ever makes HS256 keys (with a constant `Algorithm`)
/// then never references SHA-384/512 code, and the linker drops it (26 KiB on Cortex-M).
#[derive(Clone)]
pub(crate) struct MacState {
    inner: Inner,
    ops: &'static Ops,
}

/// Every byte of a key is initialized: HS256's states are padded with zeros to the size of
/// the others, so no uninitialized hole in the enum can carry a copy of earlier stack contents
/// (a key schedule's temporaries, say) wherever the key is moved, past its wiping drop.
#[derive(Clone)]
enum Inner {
    Hs256(Pads<u32>, #[allow(dead_code)] [u8; HS256_PAD]),
    Hs384(Pads<u64>),
    Hs512(Pads<u64>),
}

const HS256_PAD: usize = size_of::<Pads<u64>>().saturating_sub(size_of::<Pads<u32>>());

/// The hash states after the inner (`key ^ 0x36..`) and outer (`key ^ 0x5c..`) pad blocks.
#[derive(Clone)]
struct Pads<W: Word> {
    inner: [W; 8],
    outer: [W; 8],
}

/// Wipes the states when the key (or a clone of it) is dropped: they are as good as the
/// secret. Without the `zeroize` feature, a no-op.
impl<W: Word> Drop for Pads<W> {
    fn drop(&mut self) {
        wipe(&mut self.inner);
        wipe(&mut self.outer);
    }
}

struct Ops {
    mac: fn(&Inner, &[u8], &mut [u8]) -> usize,
    matches: fn(&Inner, &[u8], &[u8]) -> bool,
}

const SHA256_IV: [u32; 8] =
    [0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19];
const SHA384_IV: [u64; 8] = [
    0xcbbb_9d5d_c105_9ed8,
    0x629a_292a_367c_d507,
    0x9159_015a_3070_dd17,
    0x152f_ecd8_f70e_5939,
    0x6733_2667_ffc0_0b31,
    0x8eb4_4a87_6858_1511,
    0xdb0c_2e0d_64f9_8fa7,
    0x47b5_481d_befa_4fa4,
];
const SHA512_IV: [u64; 8] = [
    0x6a09_e667_f3bc_c908,
    0xbb67_ae85_84ca_a73b,
    0x3c6e_f372_fe94_f82b,
    0xa54f_f53a_5f1d_36f1,
    0x510e_527f_ade6_82d1,
    0x9b05_688c_2b3e_6c1f,
    0x1f83_d9ab_fb41_bd6b,
    0x5be0_cd19_137e_2179,
];

/// Wipes a working copy of a state, or a block that held one (with the `zeroize` feature;
/// otherwise nothing).
#[inline(always)]
fn wipe<W: Word, const N: usize>(#[cfg_attr(not(feature = "zeroize"), allow(unused_variables))] value: &mut [W; N]) {
    #[cfg(feature = "zeroize")]
    zeroize::Zeroize::zeroize(value);
}

/// [`wipe`] for a slice of bytes.
#[inline(always)]
fn wipe_bytes(#[cfg_attr(not(feature = "zeroize"), allow(unused_variables))] bytes: &mut [u8]) {
    #[cfg(feature = "zeroize")]
    zeroize::Zeroize::zeroize(bytes);
}

/// The element types [`wipe`] is used on.
#[cfg(feature = "zeroize")]
trait Word: zeroize::DefaultIsZeroes {}
#[cfg(not(feature = "zeroize"))]
trait Word: Copy {}
impl Word for u8 {}
impl Word for u32 {}
impl Word for u64 {}

/// HMAC on one SHA-2 compression function: `$word` state words, `$block`-byte blocks, a
/// `$len_bytes`-byte big-endian bit length in the padding.
macro_rules! sha2_hmac {
    ($name:ident, $word:ty, $block:literal, $len_bytes:literal, $compress:path) => {
        mod $name {
            use super::{Pads, wipe, wipe_bytes};

            const WORD: usize = size_of::<$word>();

            /// Hashes `data` from `state`, which has already taken `prefix` bytes (whole
            /// blocks), through the final padding: the whole blocks where they are, the last
            /// one or two in `last` (which the caller wipes if `data` is secret).
            pub(super) fn finish(state: &mut [$word; 8], prefix: usize, data: &[u8], last: &mut [[u8; $block]; 2]) {
                let (blocks, tail) = data.as_chunks::<$block>();
                $compress(state, blocks);
                let flat = last.as_flattened_mut();
                if let Some(dst) = flat.get_mut(..tail.len()) {
                    dst.copy_from_slice(tail);
                }
                if let Some(marker) = flat.get_mut(tail.len()) {
                    *marker = 0x80;
                }
                let n: usize = if tail.len() < $block - $len_bytes { 1 } else { 2 };
                let bits = (prefix as u128).saturating_add(data.len() as u128).saturating_mul(8);
                length(last.get_mut(n.saturating_sub(1)), bits);
                $compress(state, last.get(..n).unwrap_or_default());
            }

            /// Writes the message length in bits at the end of the block.
            fn length(block: Option<&mut [u8; $block]>, bits: u128) {
                if let (Some(dst), Some(src)) = (
                    block.and_then(|b| b.last_chunk_mut::<$len_bytes>()),
                    bits.to_be_bytes().last_chunk::<$len_bytes>(),
                ) {
                    *dst = *src;
                }
            }

            /// The state's first words, big-endian, as many whole words as `out` holds (every
            /// length written is a multiple of the word).
            pub(super) fn output(state: &[$word; 8], out: &mut [u8]) {
                for (chunk, w) in out.as_chunks_mut::<WORD>().0.iter_mut().zip(state) {
                    *chunk = w.to_be_bytes();
                }
            }

            /// The key schedule: a secret longer than a block is hashed first (to `out_len`
            /// bytes), then padded with zeros to a block and XORed with each pad.
            pub(super) fn keyed(iv: &[$word; 8], out_len: usize, secret: &[u8]) -> Pads<$word> {
                let mut key = [0u8; $block];
                if secret.len() > $block {
                    let mut state = *iv;
                    let mut last = [[0u8; $block]; 2];
                    finish(&mut state, 0, secret, &mut last);
                    output(&state, key.get_mut(..out_len).unwrap_or_default());
                    wipe(&mut state);
                    wipe_bytes(last.as_flattened_mut());
                } else if let Some(dst) = key.get_mut(..secret.len()) {
                    dst.copy_from_slice(secret);
                }
                let pad = |byte: u8| {
                    let mut block = key.map(|k| k ^ byte);
                    let mut state = *iv;
                    $compress(&mut state, core::slice::from_ref(&block));
                    wipe(&mut block);
                    state
                };
                let pads = Pads { inner: pad(0x36), outer: pad(0x5c) };
                wipe(&mut key);
                pads
            }

            /// The outer state after the MAC of `data`, `len` bytes long (its first words):
            /// the inner hash of the message (its last blocks hold only message bytes, which
            /// are public), then the outer hash of the inner digest, one block. The inner
            /// digest's working state and the block that held it are wiped; the caller wipes
            /// the state returned (it is the MAC).
            fn outer_state(pads: &Pads<$word>, data: &[u8], len: usize) -> [$word; 8] {
                let mut inner = pads.inner;
                let mut last = [[0u8; $block]; 2];
                finish(&mut inner, $block, data, &mut last);
                let mut block = [0u8; $block];
                output(&inner, block.get_mut(..len).unwrap_or_default());
                wipe(&mut inner);
                if let Some(marker) = block.get_mut(len) {
                    *marker = 0x80;
                }
                length(Some(&mut block), (len as u128).saturating_add($block).saturating_mul(8));
                let mut outer = pads.outer;
                $compress(&mut outer, core::slice::from_ref(&block));
                wipe_bytes(block.get_mut(..len).unwrap_or_default());
                outer
            }

            /// The MAC of `data` into `out` (exactly the output length).
            pub(super) fn mac(pads: &Pads<$word>, data: &[u8], out: &mut [u8]) {
                let mut outer = outer_state(pads, data, out.len());
                output(&outer, out);
                wipe(&mut outer);
            }

            /// Whether `given` is the `len`-byte MAC of `data`, in time that depends only on
            /// the lengths: its words are compared with the MAC's, which is never written out
            /// as bytes, every difference OR-ed into one accumulator tested once (`subtle`).
            pub(super) fn matches(pads: &Pads<$word>, data: &[u8], given: &[u8], len: usize) -> bool {
                let mut outer = outer_state(pads, data, len);
                let (words, _) = given.as_chunks::<WORD>();
                let diff = words.iter().zip(&outer).fold(0, |d, (g, w)| d | (<$word>::from_be_bytes(*g) ^ w));
                wipe(&mut outer);
                given.len() == len && bool::from(subtle::ConstantTimeEq::ct_eq(&diff, &0))
            }
        }
    };
}

sha2_hmac!(sha256, u32, 64, 8, sha2::block_api::compress256);
sha2_hmac!(sha512, u64, 128, 16, sha2::block_api::compress512);

macro_rules! ops {
    ($name:ident, $variant:ident, $module:ident, $len:literal) => {
        static $name: Ops = Ops {
            mac: |inner, data, out| match (inner, out.get_mut(..$len)) {
                (Inner::$variant(pads, ..), Some(tag)) => {
                    $module::mac(pads, data, tag);
                    $len
                }
                _ => 0,
            },
            matches: |inner, data, given| match inner {
                Inner::$variant(pads, ..) => $module::matches(pads, data, given, $len),
                _ => false,
            },
        };
    };
}

ops!(HS256_OPS, Hs256, sha256, 32);
ops!(HS384_OPS, Hs384, sha512, 48);
ops!(HS512_OPS, Hs512, sha512, 64);

impl MacState {
    /// Keys a new state. HMAC accepts secrets of any length; the length policy is the caller's.
    #[cfg(test)]
    pub(crate) fn new(alg: Algorithm, secret: &[u8]) -> Option<Self> {
        Self::keying(alg)(secret)
    }

    /// The function that keys a state for `alg`. Always inlined, so a constant `alg` leaves
    /// the other algorithms' code unreferenced; the keying itself is out of line, so its
    /// block-sized temporaries are on the stack only while a key is made.
    #[inline(always)]
    pub(crate) const fn keying(alg: Algorithm) -> fn(&[u8]) -> Option<Self> {
        match alg {
            Algorithm::Hs256 => Self::hs256,
            Algorithm::Hs384 => Self::hs384,
            Algorithm::Hs512 => Self::hs512,
        }
    }

    #[inline(never)]
    fn hs256(secret: &[u8]) -> Option<Self> {
        Some(Self { inner: Inner::Hs256(sha256::keyed(&SHA256_IV, 32, secret), [0; HS256_PAD]), ops: &HS256_OPS })
    }

    #[inline(never)]
    fn hs384(secret: &[u8]) -> Option<Self> {
        Some(Self { inner: Inner::Hs384(sha512::keyed(&SHA384_IV, 48, secret)), ops: &HS384_OPS })
    }

    #[inline(never)]
    fn hs512(secret: &[u8]) -> Option<Self> {
        Some(Self { inner: Inner::Hs512(sha512::keyed(&SHA512_IV, 64, secret)), ops: &HS512_OPS })
    }

    /// The MAC of `data` into the start of `out`; returns the tag (the first `mac_len` bytes
    /// of `out`), or nothing when `out` is shorter than that.
    pub(crate) fn mac<'o>(&self, data: &[u8], out: &'o mut [u8]) -> &'o [u8] {
        let n = (self.ops.mac)(&self.inner, data, out);
        out.get(..n).unwrap_or_default()
    }

    /// Whether `given` is exactly the MAC of `data`, compared in constant time (for its
    /// length) without the MAC ever being written out as bytes.
    pub(crate) fn matches(&self, data: &[u8], given: &[u8]) -> bool {
        (self.ops.matches)(&self.inner, data, given)
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
mod tests {
    extern crate std;
    use super::*;

    fn hex(s: &str) -> std::vec::Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// Wycheproof's HMAC files: the full MAC must match the tag exactly for valid cases and
    /// differ for invalid ones. Truncated-tag groups are checked on the prefix only: they test
    /// the MAC, while JWS verification itself never accepts a truncated signature.
    fn wycheproof(alg: Algorithm, file: &str) -> usize {
        let doc: serde_json::Value = serde_json::from_str(file).unwrap();
        let mut n = 0;
        for group in doc["testGroups"].as_array().unwrap() {
            let tag_bytes = group["tagSize"].as_u64().unwrap() as usize / 8;
            for t in group["tests"].as_array().unwrap() {
                let id = &t["tcId"];
                let state = MacState::new(alg, &hex(t["key"].as_str().unwrap())).unwrap();
                let mut out = [0u8; MAX_MAC_LEN];
                let msg = hex(t["msg"].as_str().unwrap());
                let mac = state.mac(&msg, &mut out);
                assert_eq!(mac.len(), alg.mac_len());
                assert!(state.matches(&msg, mac));
                let tag = hex(t["tag"].as_str().unwrap());
                let same = tag.len() == tag_bytes && mac[..tag_bytes] == tag[..];
                assert_eq!(same, t["result"] == "valid", "{alg:?} tcId {id}");
                n += 1;
            }
        }
        n
    }

    /// The MAC matches itself only: a difference in any bit of any byte, or in two bytes
    /// (which would cancel if differences were XOR-ed together instead of OR-ed), a byte more
    /// or less, or another algorithm's length, is refused.
    #[test]
    #[cfg_attr(miri, ignore = "exhaustive; runs in every ordinary cargo test")]
    fn mac_comparison_sees_every_bit() {
        for alg in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
            let state = MacState::new(alg, &[7; 64]).unwrap();
            let mut out = [0u8; MAX_MAC_LEN + 1];
            let len = state.mac(b"header.payload", &mut out).len();
            let mac = out;
            assert!(state.matches(b"header.payload", &mac[..len]));
            assert!(!state.matches(b"header.payloaD", &mac[..len]));
            for i in 0..len {
                for bit in 0..8 {
                    let mut b = mac;
                    b[i] ^= 1 << bit;
                    assert!(!state.matches(b"header.payload", &b[..len]), "{alg:?} byte {i} bit {bit}");
                }
                for j in i + 1..len {
                    let mut b = mac;
                    b[i] ^= 0x80;
                    b[j] ^= 0x80;
                    assert!(!state.matches(b"header.payload", &b[..len]), "{alg:?} bytes {i} and {j}");
                }
            }
            for other in [0, 1, len - 1, len + 1, 32, 48, 64].into_iter().filter(|&n| n != len) {
                assert!(!state.matches(b"header.payload", &mac[..other]), "{alg:?} length {other}");
            }
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "exhaustive; runs in every ordinary cargo test")]
    fn wycheproof_hmac_vectors() {
        assert_eq!(wycheproof(Algorithm::Hs256, include_str!("../tests/data/hmac_sha256_wycheproof.json")), 174);
        assert!(wycheproof(Algorithm::Hs384, include_str!("../tests/data/hmac_sha384_wycheproof.json")) > 150);
        assert!(wycheproof(Algorithm::Hs512, include_str!("../tests/data/hmac_sha512_wycheproof.json")) > 150);
    }
}
