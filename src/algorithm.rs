//! The three HMAC algorithms of RFC 7518 section 3.2 and the keyed MAC state behind them.

use hmac::KeyInit as _;
use hmac::block_api::HmacCore;
use hmac::digest::Output;
use hmac::digest::block_api::{Buffer, FixedOutputCore as _, UpdateCore as _};
use sha2::{Sha256, Sha384, Sha512};

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

/// A keyed HMAC state: the two hash cores after the key's inner and outer pad blocks (HMAC's
/// key schedule, computed once per key), with no block buffer. Each MAC starts from a copy of
/// them, so a key holds 80 bytes of state for HS256 and 160 for HS384/HS512.
///
/// The operations go through a table chosen when the key is made, not through a `match` on
/// the algorithm: a program that only ever makes HS256 keys (with a constant `Algorithm`)
/// then never references SHA-384/512 code, and the linker drops it (26 KiB on Cortex-M).
#[derive(Clone)]
pub(crate) struct MacState {
    inner: Inner,
    ops: &'static Ops,
}

/// Every byte of a key is initialized: HS256's cores are padded with zeros to the size of the
/// others, so no uninitialized hole in the enum can carry a copy of earlier stack contents (a
/// key schedule's temporaries, say) wherever the key is moved, past its wiping drop.
#[derive(Clone)]
enum Inner {
    Hs256(HmacCore<Sha256>, #[allow(dead_code)] [u8; HS256_PAD]),
    Hs384(HmacCore<Sha384>),
    Hs512(HmacCore<Sha512>),
}

const HS256_PAD: usize = size_of::<HmacCore<Sha512>>().saturating_sub(size_of::<HmacCore<Sha256>>());

struct Ops {
    mac: fn(&Inner, &[u8], &mut [u8]) -> usize,
}

macro_rules! ops {
    ($name:ident, $variant:ident, $hash:ty) => {
        static $name: Ops = Ops {
            // HMAC driven on the hash cores: full blocks of `data` are hashed where they are,
            // only the tail goes through a block buffer, and the tag is written straight into
            // `out`. Copies only this algorithm's cores (not the enum, sized for SHA-512).
            mac: |inner, data, out| match inner {
                Inner::$variant(key, ..) => {
                    let mut core = key.clone();
                    let mut buffer = Buffer::<HmacCore<$hash>>::default();
                    buffer.digest_blocks(data, |blocks| core.update_blocks(blocks));
                    let n = size_of::<Output<HmacCore<$hash>>>();
                    match out.get_mut(..n).and_then(|o| <&mut Output<HmacCore<$hash>>>::try_from(o).ok()) {
                        Some(tag) => {
                            core.finalize_fixed_core(&mut buffer, tag);
                            n
                        }
                        None => 0,
                    }
                }
                _ => 0,
            },
        };
    };
}

ops!(HS256_OPS, Hs256, Sha256);
ops!(HS384_OPS, Hs384, Sha384);
ops!(HS512_OPS, Hs512, Sha512);

impl MacState {
    /// Keys a new state. HMAC accepts secrets of any length; the length policy is the caller's.
    ///
    /// `None` only if the `hmac` crate ever refuses a key length, which HMAC itself never does.
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
        let core = HmacCore::new_from_slice(secret).ok()?;
        Some(Self { inner: Inner::Hs256(core, [0; HS256_PAD]), ops: &HS256_OPS })
    }

    #[inline(never)]
    fn hs384(secret: &[u8]) -> Option<Self> {
        Some(Self { inner: Inner::Hs384(HmacCore::new_from_slice(secret).ok()?), ops: &HS384_OPS })
    }

    #[inline(never)]
    fn hs512(secret: &[u8]) -> Option<Self> {
        Some(Self { inner: Inner::Hs512(HmacCore::new_from_slice(secret).ok()?), ops: &HS512_OPS })
    }

    /// The MAC of `data` into the start of `out`; returns the tag (the first `mac_len` bytes
    /// of `out`), or nothing when `out` is shorter than that.
    pub(crate) fn mac<'o>(&self, data: &[u8], out: &'o mut [u8]) -> &'o [u8] {
        let n = (self.ops.mac)(&self.inner, data, out);
        out.get(..n).unwrap_or_default()
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
                let mac = state.mac(&hex(t["msg"].as_str().unwrap()), &mut out);
                assert_eq!(mac.len(), alg.mac_len());
                let tag = hex(t["tag"].as_str().unwrap());
                let same = tag.len() == tag_bytes && mac[..tag_bytes] == tag[..];
                assert_eq!(same, t["result"] == "valid", "{alg:?} tcId {id}");
                n += 1;
            }
        }
        n
    }

    #[test]
    #[cfg_attr(miri, ignore = "exhaustive; runs in every ordinary cargo test")]
    fn wycheproof_hmac_vectors() {
        assert_eq!(wycheproof(Algorithm::Hs256, include_str!("../tests/data/hmac_sha256_wycheproof.json")), 174);
        assert!(wycheproof(Algorithm::Hs384, include_str!("../tests/data/hmac_sha384_wycheproof.json")) > 150);
        assert!(wycheproof(Algorithm::Hs512, include_str!("../tests/data/hmac_sha512_wycheproof.json")) > 150);
    }
}
