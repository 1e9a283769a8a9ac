//! base64url use: strict decoding, a streaming encoder, and length arithmetic.
//!
//! The codec is the `base64` crate without its `simd-unsafe` feature (so it has no `unsafe`
//! at all). Token text is public, so the codec need not be constant-time; the MAC comparison,
//! which must be, is done on encoded bytes with `subtle` in the verifier.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT, URL_SAFE_NO_PAD, URL_SAFE_PAD_INDIFFERENT};

use crate::Error;
use crate::json::write::Sink;

/// The length of `n` bytes in base64url without padding.
///
/// ```
/// assert_eq!(stackjwt::base64url_len(32), 43);
/// assert_eq!(stackjwt::base64url_len(0), 0);
/// ```
#[must_use]
pub const fn encoded_len(n: usize) -> usize {
    let full = (n / 3).saturating_mul(4);
    match n % 3 {
        0 => full,
        1 => full.saturating_add(2),
        _ => full.saturating_add(3),
    }
}

/// The length of `n` bytes in standard base64 with `=` padding.
pub(crate) const fn padded_len(n: usize) -> usize {
    n.div_ceil(3).saturating_mul(4)
}

/// The decoded length of `n` canonical unpadded base64 characters, or `None` when no canonical
/// encoding has that length (`n % 4 == 1`).
pub(crate) const fn decoded_len(n: usize) -> Option<usize> {
    let full = (n / 4).saturating_mul(3);
    match n % 4 {
        0 => Some(full),
        2 => Some(full.saturating_add(1)),
        3 => Some(full.saturating_add(2)),
        _ => None,
    }
}

/// Decodes canonical base64url without padding: no `=`, no `+` or `/`, no whitespace, zero
/// trailing bits. Returns the decoded bytes, which start `out`.
pub(crate) fn decode_url<'o>(input: &[u8], out: &'o mut [u8]) -> Result<&'o mut [u8], Error> {
    let needed = decoded_len(input.len()).ok_or(Error::InvalidBase64)?;
    let out = out.get_mut(..needed).ok_or(Error::BufferTooSmall { needed })?;
    match URL_SAFE_NO_PAD.decode_slice(input, out) {
        Ok(n) if n == needed => Ok(out),
        _ => Err(Error::InvalidBase64),
    }
}

/// Decodes a development token's payload the way Stream's servers accept it: standard or url
/// alphabet, with or without `=` padding, but still with zero trailing bits.
pub(crate) fn decode_lenient<'o>(input: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], Error> {
    let unpadded = input.strip_suffix(b"==").or_else(|| input.strip_suffix(b"=")).unwrap_or(input);
    let needed = decoded_len(unpadded.len()).ok_or(Error::InvalidBase64)?;
    let out = out.get_mut(..needed).ok_or(Error::BufferTooSmall { needed })?;
    for engine in [STANDARD_PAD_INDIFFERENT, URL_SAFE_PAD_INDIFFERENT] {
        if let Ok(n) = engine.decode_slice(input, &mut *out) {
            return out.get(..n).ok_or(Error::InvalidBase64);
        }
    }
    Err(Error::InvalidBase64)
}

/// Encodes `input` as base64url without padding at the start of `out`, returning the text.
pub(crate) fn encode_url<'o>(input: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], Error> {
    let needed = encoded_len(input.len());
    let out = out.get_mut(..needed).ok_or(Error::BufferTooSmall { needed })?;
    match URL_SAFE_NO_PAD.encode_slice(input, &mut *out) {
        Ok(_) => Ok(out),
        Err(_) => Err(Error::BufferTooSmall { needed }),
    }
}

/// Bytes gathered before each encode call: a multiple of 3, so no chunk but the last has a tail.
const CHUNK: usize = 48;

/// A [`Sink`] that base64-encodes what is written into a caller's slice, in one pass.
///
/// It never fails while writing: when `out` fills up it keeps counting, so the caller learns
/// exactly how long the output would have been.
pub(crate) struct Encoder<'o> {
    out: &'o mut [u8],
    /// Encoded bytes produced so far (counted even past the end of `out`).
    written: usize,
    pending: [u8; CHUNK],
    pending_len: usize,
    /// Standard alphabet with `=` padding (development tokens) instead of base64url.
    standard_padded: bool,
}

impl<'o> Encoder<'o> {
    /// An encoder writing base64url without padding.
    pub(crate) fn url(out: &'o mut [u8]) -> Self {
        Self { out, written: 0, pending: [0; CHUNK], pending_len: 0, standard_padded: false }
    }

    /// An encoder writing standard base64 with padding.
    pub(crate) fn standard(out: &'o mut [u8]) -> Self {
        Self { standard_padded: true, ..Self::url(out) }
    }

    fn flush(&mut self) {
        let chunk = self.pending.get(..self.pending_len).unwrap_or_default();
        let n = if self.standard_padded { padded_len(chunk.len()) } else { encoded_len(chunk.len()) };
        let end = self.written.saturating_add(n);
        if let Some(dst) = self.out.get_mut(self.written..end) {
            // `dst` has exactly the encoded length, so encoding cannot run out of room.
            let _ = if self.standard_padded {
                STANDARD.encode_slice(chunk, dst)
            } else {
                URL_SAFE_NO_PAD.encode_slice(chunk, dst)
            };
        }
        self.written = end;
        self.pending_len = 0;
    }

    /// Flushes the tail and returns the encoded length (possibly more than the slice held).
    pub(crate) fn finish(mut self) -> usize {
        self.flush();
        self.written
    }
}

impl Sink for Encoder<'_> {
    fn put(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let room = CHUNK.saturating_sub(self.pending_len);
            let (now, later) = data.split_at(room.min(data.len()));
            let end = self.pending_len.saturating_add(now.len());
            if let Some(dst) = self.pending.get_mut(self.pending_len..end) {
                dst.copy_from_slice(now);
            }
            self.pending_len = end;
            if self.pending_len == CHUNK {
                self.flush();
            }
            data = later;
        }
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
mod tests {
    use super::*;

    fn enc(data: &[u8], standard: bool) -> ([u8; 256], usize) {
        let mut out = [0u8; 256];
        let mut e = if standard { Encoder::standard(&mut out) } else { Encoder::url(&mut out) };
        // Feed in uneven pieces to cross chunk borders.
        for piece in data.chunks(7) {
            e.put(piece);
        }
        let n = e.finish();
        (out, n)
    }

    #[test]
    fn streaming_encoder_matches_one_shot() {
        let data: [u8; 150] = core::array::from_fn(|i| (i * 37 % 251) as u8);
        for len in 0..data.len() {
            let (out, n) = enc(&data[..len], false);
            let mut want = [0u8; 256];
            let w = URL_SAFE_NO_PAD.encode_slice(&data[..len], &mut want).unwrap();
            assert_eq!(&out[..n], &want[..w], "len {len}");
            assert_eq!(n, encoded_len(len));
            let (out, n) = enc(&data[..len], true);
            let w = STANDARD.encode_slice(&data[..len], &mut want).unwrap();
            assert_eq!(&out[..n], &want[..w], "len {len}");
        }
    }

    #[test]
    fn encoder_counts_past_a_full_slice() {
        let mut out = [0u8; 4];
        let mut e = Encoder::url(&mut out);
        e.put(&[1; 100]);
        assert_eq!(e.finish(), encoded_len(100));
    }

    #[test]
    fn strict_decoding_rejects_non_canonical_forms() {
        let mut out = [0u8; 32];
        assert_eq!(decode_url(b"Zm9v", &mut out).unwrap(), b"foo");
        assert_eq!(decode_url(b"Zm8", &mut out).unwrap(), b"fo");
        for bad in [
            &b"Zm8="[..], // padding
            b"Zm9",       // trailing bits non-zero ('9' = 61 = ..1101)
            b"Zm9v Zm9v", // whitespace
            b"Z",         // length % 4 == 1
            b"a+b/",      // standard alphabet
            b"Zm9v\n",
        ] {
            assert_eq!(decode_url(bad, &mut out), Err(Error::InvalidBase64), "{bad:?}");
        }
        assert_eq!(decode_url(b"Zm9vYmFy", &mut out[..2]), Err(Error::BufferTooSmall { needed: 6 }));
    }

    #[test]
    fn lenient_decoding_takes_both_alphabets_and_padding() {
        let mut out = [0u8; 32];
        assert_eq!(decode_lenient(b"YWI=", &mut out).unwrap(), b"ab");
        assert_eq!(decode_lenient(b"YWI", &mut out).unwrap(), b"ab");
        assert_eq!(decode_lenient(b"-_8", &mut out).unwrap(), [0xfb, 0xff]);
        assert_eq!(decode_lenient(b"+/8=", &mut out).unwrap(), [0xfb, 0xff]);
        assert_eq!(decode_lenient(b"YWJ=", &mut out), Err(Error::InvalidBase64));
    }
}
