//! base64 for tokens: strict base64url decoding, a streaming encoder, and lengths.
//!
//! A small table-driven codec of our own, chosen by measurement (`benches/tokens.rs`): to
//! decode a user token's payload segment the `base64` crate (no `unsafe` SIMD) took 44 ns and
//! `base64ct` 201 ns, this codec 29 ns (on 64-bit targets, two groups of four characters per
//! step with per-position tables; encoding six bytes per step with a table of character
//! pairs); it writes straight into the token and adds no dependency. Its output is checked against the
//! `base64` crate in the tests. Token text is public, so the codec need not be constant-time:
//! it only ever decodes what a token carries (the signature segment included, into a fixed
//! array that the verifier compares with the expected MAC in constant time), and it encodes
//! only what is about to be published. No table is indexed by a MAC the verifier computed.
//!
//! Decoding is strict: only the url alphabet, no `=`, no whitespace, no length that is 1
//! modulo 4, and zero trailing bits, so every byte string has exactly one accepted encoding.

use crate::Error;
use crate::algorithm::MAX_MAC_LEN;
use crate::error::Segment;
use crate::json::write::Sink;

const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const STANDARD_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Decoding table value for bytes outside the alphabet (bit 7 set; valid values are < 64).
const INVALID: u8 = 0xff;

// Const evaluation: an out-of-range index would fail the build, not a run.
#[allow(clippy::indexing_slicing, clippy::cast_possible_truncation, clippy::arithmetic_side_effects)]
const fn decode_table(alphabet: &[u8; 64]) -> [u8; 256] {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t
}

#[cfg_attr(not(any(target_pointer_width = "64", test)), allow(dead_code))]
static URL_DECODE: [u8; 256] = decode_table(URL);
#[cfg_attr(not(any(target_pointer_width = "64", test)), allow(dead_code))]
static STANDARD_DECODE: [u8; 256] = decode_table(STANDARD_ALPHABET);

/// Bit 31 of a [`placed_tables`] entry: a character outside the alphabet.
#[cfg_attr(not(any(target_pointer_width = "64", test)), allow(dead_code))]
const INVALID_PLACED: u32 = 1 << 31;

/// One table per position in a group of four characters: each character's sextet already
/// shifted to its place in the group's 24 bits, or [`INVALID_PLACED`]. A group then decodes
/// with four loads and three ORs, no shifts.
// Const evaluation: an out-of-range index would fail the build, not a run.
#[allow(clippy::indexing_slicing, clippy::cast_possible_truncation, clippy::arithmetic_side_effects)]
#[cfg_attr(not(any(target_pointer_width = "64", test)), allow(dead_code))]
const fn placed_tables(alphabet: &[u8; 64]) -> [[u32; 256]; 4] {
    let mut t = [[INVALID_PLACED; 256]; 4];
    let mut i = 0;
    while i < 64 {
        let c = alphabet[i] as usize;
        t[0][c] = (i as u32) << 18;
        t[1][c] = (i as u32) << 12;
        t[2][c] = (i as u32) << 6;
        t[3][c] = i as u32;
        i += 1;
    }
    t
}

/// The url alphabet's placed tables (4 KiB): 64-bit targets only, where the verifier's hot
/// path decodes with them; smaller ones keep their flash.
#[cfg(any(target_pointer_width = "64", test))]
static URL_PLACED: [[u32; 256]; 4] = placed_tables(URL);

/// The two url characters of every 12 bits, as a little-endian `u16` (first character in the
/// low byte): six bytes encode with four loads.
#[allow(clippy::indexing_slicing, clippy::cast_possible_truncation, clippy::arithmetic_side_effects)]
#[cfg_attr(not(any(target_pointer_width = "64", test)), allow(dead_code))]
const fn pair_table(alphabet: &[u8; 64]) -> [u16; 4096] {
    let mut t = [0u16; 4096];
    let mut i = 0;
    while i < 4096 {
        t[i] = u16::from_le_bytes([alphabet[i >> 6], alphabet[i & 63]]);
        i += 1;
    }
    t
}

/// The url alphabet's pair table (8 KiB): 64-bit targets only, where minting encodes with it;
/// smaller ones keep their flash.
#[cfg(any(target_pointer_width = "64", test))]
static URL_PAIRS: [u16; 4096] = pair_table(URL);

/// The eight url characters of six bytes.
#[cfg(any(target_pointer_width = "64", test))]
#[inline(always)]
fn octet([a, b, c, d, e, f]: [u8; 6]) -> [u8; 8] {
    octet_of(u64::from_be_bytes([0, 0, a, b, c, d, e, f]))
}

/// The eight url characters of the low 48 bits of `v`.
#[cfg(any(target_pointer_width = "64", test))]
#[inline(always)]
fn octet_of(v: u64) -> [u8; 8] {
    let pair = |shift: u32| u64::from(URL_PAIRS.get(((v >> shift) & 0xfff) as usize).copied().unwrap_or(0));
    (pair(36) | (pair(24) << 16) | (pair(12) << 32) | (pair(0) << 48)).to_le_bytes()
}

/// The eight url characters of the six bytes at `input[at..]`: read as one word when eight
/// bytes remain there.
#[cfg(any(target_pointer_width = "64", test))]
#[inline(always)]
fn octet_at(input: &[u8], at: usize, six: &[u8; 6]) -> [u8; 8] {
    match input.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        Some(word) => octet_of(u64::from_be_bytes(*word) >> 16),
        None => octet(*six),
    }
}

/// An alphabet to decode: characters to sextets, [`INVALID`] (bit 7 set) outside it.
///
/// On 64-bit targets a 256-byte table per alphabet (speed); on smaller ones a few comparisons
/// (flash: 512 bytes of tables are a thirtieth of a microcontroller program). Both give the
/// same sextet for every byte (tested).
trait Alphabet {
    #[cfg_attr(not(any(target_pointer_width = "64", test)), allow(dead_code))]
    const TABLE: &'static [u8; 256];
    /// The characters for 62 and 63.
    #[cfg_attr(not(any(not(target_pointer_width = "64"), test)), allow(dead_code))]
    const LAST_TWO: [u8; 2];

    #[inline(always)]
    fn sextet(b: u8) -> u32 {
        #[cfg(target_pointer_width = "64")]
        return sextet(Self::TABLE, b);
        #[cfg(not(target_pointer_width = "64"))]
        return sextet_by_range(b, Self::LAST_TWO);
    }

    /// Decodes whole groups of four characters into three bytes each; returns the OR of
    /// what was looked up, whose bit 7 is set iff a character was outside the alphabet.
    #[inline(always)]
    fn decode_quads(quads: &[[u8; 4]], triples: &mut [[u8; 3]]) -> u32 {
        let mut seen = 0u32;
        for (q, o) in quads.iter().zip(triples.iter_mut()) {
            let [a, b, c, d] = q.map(Self::sextet);
            seen |= a | b | c | d;
            let v = (a << 18) | (b << 12) | (c << 6) | d;
            let [_, b0, b1, b2] = v.to_be_bytes();
            *o = [b0, b1, b2];
        }
        seen
    }
}

struct Url;
impl Alphabet for Url {
    const TABLE: &'static [u8; 256] = &URL_DECODE;
    const LAST_TWO: [u8; 2] = *b"-_";

    /// On 64-bit targets, with the placed tables, two groups (six bytes) at a time.
    #[cfg(target_pointer_width = "64")]
    #[inline(always)]
    fn decode_quads(quads: &[[u8; 4]], triples: &mut [[u8; 3]]) -> u32 {
        decode_placed(&URL_PLACED, quads, triples) >> 24
    }
}

/// [`Alphabet::decode_quads`] with [`placed_tables`]: returns the OR of the groups' values
/// (bit 31 set iff a character was outside the alphabet).
#[cfg_attr(not(any(target_pointer_width = "64", test)), allow(dead_code))]
#[inline(always)]
fn decode_placed(t: &[[u32; 256]; 4], quads: &[[u8; 4]], triples: &mut [[u8; 3]]) -> u32 {
    let [t0, t1, t2, t3] = t;
    let group = |[a, b, c, d]: [u8; 4]| {
        let at = |t: &[u32; 256], ch: u8| t.get(usize::from(ch)).copied().unwrap_or(INVALID_PLACED);
        at(t0, a) | at(t1, b) | at(t2, c) | at(t3, d)
    };
    let (pairs, last) = quads.as_chunks::<2>();
    let (out_pairs, out_last) = triples.as_flattened_mut().as_chunks_mut::<6>();
    let mut seen = 0u32;
    for ([q0, q1], o) in pairs.iter().zip(out_pairs.iter_mut()) {
        let (v0, v1) = (group(*q0), group(*q1));
        seen |= v0 | v1;
        let bytes = ((u64::from(v0) << 24) | u64::from(v1)).to_be_bytes();
        o.copy_from_slice(bytes.get(2..).unwrap_or_default());
    }
    for (q, o) in last.iter().zip(out_last.as_chunks_mut::<3>().0.iter_mut()) {
        let v = group(*q);
        seen |= v;
        let [_, b0, b1, b2] = v.to_be_bytes();
        *o = [b0, b1, b2];
    }
    seen
}

struct Standard;
impl Alphabet for Standard {
    const TABLE: &'static [u8; 256] = &STANDARD_DECODE;
    const LAST_TWO: [u8; 2] = *b"+/";
}

/// The sextet of `b` in the alphabet whose characters for 62 and 63 are `last_two`, by range.
#[cfg_attr(not(any(not(target_pointer_width = "64"), test)), allow(dead_code))]
fn sextet_by_range(b: u8, [c62, c63]: [u8; 2]) -> u32 {
    let v = match b {
        b'A'..=b'Z' => b.wrapping_sub(b'A'),
        b'a'..=b'z' => b.wrapping_sub(b'a' - 26),
        b'0'..=b'9' => b.wrapping_add(52 - b'0'),
        _ if b == c62 => 62,
        _ if b == c63 => 63,
        _ => INVALID,
    };
    u32::from(v)
}

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

#[cfg_attr(not(any(target_pointer_width = "64", test)), allow(dead_code))]
fn sextet(table: &[u8; 256], b: u8) -> u32 {
    u32::from(table.get(usize::from(b)).copied().unwrap_or(INVALID))
}

/// The low byte of `v`.
fn low(v: u32) -> u8 {
    v.to_le_bytes()[0]
}

fn char_of(alphabet: &[u8; 64], v: u32) -> u8 {
    alphabet.get((v & 63) as usize).copied().unwrap_or(b'A')
}

/// Decodes canonical unpadded base64 in alphabet `A` into the start of `out`.
fn decode_with<'o, A: Alphabet>(input: &[u8], out: &'o mut [u8]) -> Result<&'o mut [u8], Error> {
    const INVALID_BASE64: Error = Error::InvalidBase64 { segment: Segment::Payload };
    let needed = decoded_len(input.len()).ok_or(INVALID_BASE64)?;
    let out = out.get_mut(..needed).ok_or(Error::BufferTooSmall { needed })?;
    let (quads, tail) = input.as_chunks::<4>();
    let (triples, out_tail) = out.as_chunks_mut::<3>();
    // OR of all sextets: bit 7 is set iff some character was outside the alphabet.
    let mut seen = A::decode_quads(quads, triples);
    let mut v = 0u32;
    for &ch in tail {
        let s = A::sextet(ch);
        seen |= s;
        v = (v << 6) | s;
    }
    // 2 characters carry 1 byte and 4 spare bits; 3 carry 2 bytes and 2 spare bits.
    let (bytes, spare_mask) = match tail.len() {
        2 => ([low(v >> 4), 0], 0b1111),
        3 => ([low(v >> 10), low(v >> 2)], 0b11),
        _ => ([0, 0], 0),
    };
    if seen & 0x80 != 0 || v & spare_mask != 0 {
        return Err(INVALID_BASE64);
    }
    for (o, b) in out_tail.iter_mut().zip(bytes) {
        *o = b;
    }
    Ok(out)
}

/// Decodes canonical base64url without padding: no `=`, no `+` or `/`, no whitespace, zero
/// trailing bits. Returns the decoded bytes, which start `out`; errors are said of `segment`.
pub(crate) fn decode_url<'o>(segment: Segment, input: &[u8], out: &'o mut [u8]) -> Result<&'o mut [u8], Error> {
    decode_with::<Url>(input, out).map_err(|e| e.in_segment(segment))
}

/// Decodes a signature segment into a MAC-sized array: `None` unless it is the canonical
/// encoding of exactly `mac_len` bytes. Only the token's own (public) text is decoded here.
pub(crate) fn decode_signature<'o>(input: &[u8], mac_len: usize, out: &'o mut [u8; MAX_MAC_LEN]) -> Option<&'o [u8]> {
    if decoded_len(input.len()) != Some(mac_len) {
        return None;
    }
    decode_with::<Url>(input, out).ok().map(|d| &*d)
}

/// Decodes one token segment with the verifier's strict codec: base64url, no padding, no
/// whitespace, zero trailing bits, so each byte string has exactly one accepted encoding.
/// Returns the decoded bytes, which start `out`.
///
/// ```
/// use stackjwt::{decode_segment, Error, Segment};
/// let mut out = [0u8; 32];
/// assert_eq!(decode_segment(Segment::Payload, b"eyJzZXJ2ZXIiOnRydWV9", &mut out)?, br#"{"server":true}"#);
/// assert_eq!(decode_segment(Segment::Header, b"eyJ9=", &mut out), Err(Error::InvalidBase64 { segment: Segment::Header }));
/// # Ok::<(), Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidBase64`] (said of `segment`) for anything but canonical unpadded
/// base64url; [`Error::BufferTooSmall`] when `out` is shorter than the decoded bytes.
pub fn decode_segment<'o>(segment: Segment, input: &[u8], out: &'o mut [u8]) -> Result<&'o mut [u8], Error> {
    decode_url(segment, input, out)
}

/// Decodes a development token's payload the way Stream's servers take it: standard or url
/// alphabet (not mixed), with correct `=` padding or none, and zero trailing bits.
pub(crate) fn decode_lenient<'o>(input: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], Error> {
    let unpadded = input.strip_suffix(b"==").or_else(|| input.strip_suffix(b"=")).unwrap_or(input);
    if unpadded.len() != input.len() && (!input.len().is_multiple_of(4) || unpadded.ends_with(b"=")) {
        return Err(Error::InvalidBase64 { segment: Segment::Payload });
    }
    // The alphabets differ only in two characters; a mix of both fails in either table.
    let decoded = if unpadded.iter().any(|&b| b == b'+' || b == b'/') {
        decode_with::<Standard>(unpadded, out)
    } else {
        decode_with::<Url>(unpadded, out)
    };
    decoded.map(|d| &*d)
}

/// The four characters of three bytes.
#[cfg_attr(all(target_pointer_width = "64", not(test)), allow(dead_code))]
#[inline(always)]
fn quad(alphabet: &[u8; 64], [a, b, c]: [u8; 3]) -> [u8; 4] {
    let v = (u32::from(a) << 16) | (u32::from(b) << 8) | u32::from(c);
    [char_of(alphabet, v >> 18), char_of(alphabet, v >> 12), char_of(alphabet, v >> 6), char_of(alphabet, v)]
}

/// The two or three characters of a last one or two bytes (unpadded); `[0; 3]` for none.
#[inline(always)]
fn tail_chars(alphabet: &[u8; 64], tail: &[u8]) -> [u8; 3] {
    let v = tail.iter().fold(0u32, |v, &b| (v << 8) | u32::from(b));
    match tail.len() {
        1 => [char_of(alphabet, v >> 2), char_of(alphabet, v << 4), 0],
        2 => [char_of(alphabet, v >> 10), char_of(alphabet, v >> 4), char_of(alphabet, v << 2)],
        _ => [0; 3],
    }
}

/// Encodes `input` (unpadded) into `out`, which must be exactly `encoded_len(input.len())` long.
fn encode_exact(alphabet: &[u8; 64], input: &[u8], out: &mut [u8]) {
    let (triples, tail) = input.as_chunks::<3>();
    let (quads, out_tail) = out.as_chunks_mut::<4>();
    for (t, q) in triples.iter().zip(quads.iter_mut()) {
        // The body of `quad`, written out: calling it here measured 115 more instructions per
        // token (callgrind), this being the minting hot path.
        let v = (u32::from(t[0]) << 16) | (u32::from(t[1]) << 8) | u32::from(t[2]);
        *q = [char_of(alphabet, v >> 18), char_of(alphabet, v >> 12), char_of(alphabet, v >> 6), char_of(alphabet, v)];
    }
    // Each character on its own: a copy of a length known only at run time calls memcpy.
    for (o, c) in out_tail.iter_mut().zip(tail_chars(alphabet, tail)) {
        *o = c;
    }
}

/// Encodes the bytes `buf[from..]` as base64url into `buf` itself, from its start; `buf` must
/// be exactly their encoded length. Safe in place: the text of bytes `..3k` ends at `4k`,
/// which is never past byte `3k` of the input (`from + 3k`, as `from` is at least a third of
/// the input's length), and each triple is read before its four characters are written.
#[cfg_attr(all(target_pointer_width = "64", not(test)), allow(dead_code))]
pub(crate) fn encode_url_in_place(buf: &mut [u8], from: usize) {
    let (mut read, mut write) = (from, 0usize);
    loop {
        let end = read.saturating_add(3);
        let Some(&[a, b, c]) = buf.get(read..end) else { break };
        if let Some(dst) = buf.get_mut(write..write.saturating_add(4)) {
            dst.copy_from_slice(&quad(URL, [a, b, c]));
        }
        (read, write) = (end, write.saturating_add(4));
    }
    let mut tail = [0u8; 2];
    let rest = buf.get(read..).unwrap_or_default();
    let n = rest.len().min(2);
    tail.get_mut(..n).unwrap_or_default().copy_from_slice(rest.get(..n).unwrap_or_default());
    let chars = tail_chars(URL, tail.get(..n).unwrap_or_default());
    let out = buf.get_mut(write..).unwrap_or_default();
    let m = out.len().min(3);
    out.get_mut(..m).unwrap_or_default().copy_from_slice(chars.get(..m).unwrap_or_default());
}

/// Encodes `input` (unpadded base64url) into `out`, which must be exactly
/// `encoded_len(input.len())` long: on 64-bit targets six bytes at a time with the pair table.
fn encode_url_exact(input: &[u8], out: &mut [u8]) {
    #[cfg(target_pointer_width = "64")]
    let (input, out) = {
        let (sixes, rest) = input.as_chunks::<6>();
        let (eights, out_rest) = out.as_chunks_mut::<8>();
        for ((k, six), o) in sixes.iter().enumerate().zip(eights.iter_mut()) {
            *o = octet_at(input, k.saturating_mul(6), six);
        }
        (rest, out_rest)
    };
    encode_exact(URL, input, out);
}

/// A MAC followed by zeros: room for the word read at each group of six of its bytes.
pub(crate) type PaddedMac = [u8; MAX_MAC_LEN + 8];

/// Encodes the MAC at the start of `padded` (the rest zeros) into `out`, exactly its encoded
/// length: on 64-bit targets a group of six bytes at a time, the last group's characters
/// beyond `out` dropped (they encode only the zeros after the MAC, so the last one kept has
/// zero spare bits, as the canonical encoding requires); elsewhere through [`encode_url`].
pub(crate) fn encode_mac(padded: &PaddedMac, mac_len: usize, out: &mut [u8]) {
    #[cfg(target_pointer_width = "64")]
    {
        let _ = mac_len;
        let word =
            |at: usize| padded.get(at..).and_then(<[u8]>::first_chunk::<8>).map_or(0, |w| u64::from_be_bytes(*w) >> 16);
        let (octets, rest) = out.as_chunks_mut::<8>();
        for (k, o) in octets.iter_mut().enumerate() {
            *o = octet_of(word(k.saturating_mul(6)));
        }
        for (o, c) in rest.iter_mut().zip(octet_of(word(octets.len().saturating_mul(6)))) {
            *o = c;
        }
    }
    #[cfg(not(target_pointer_width = "64"))]
    let _ = encode_url(padded.get(..mac_len).unwrap_or_default(), out);
}

/// Encodes the `len` bytes at `buf[from..]` as base64url into the start of `buf`, returning
/// the encoded length; `from` must be at least `encoded_len(len) - len`.
///
/// On 64-bit targets six bytes at a time, in place: with `len = 6m + r`, step `k < m` reads
/// its six bytes, then writes eight characters at `8k..8k + 8`, which ends before the input
/// not yet read (at `from + 6k + 6`) when `from >= 2k + 2`, so for every step when
/// `from >= 2m`, which `from >= encoded_len(len) - len = 2m + encoded_len(r) - r` gives; the
/// last `r` bytes are copied out before their characters are written. On smaller targets the
/// input is moved to the end of the output and encoded by [`encode_url_in_place`].
pub(crate) fn encode_url_moved(buf: &mut [u8], from: usize, len: usize) -> usize {
    let n = encoded_len(len);
    #[cfg(target_pointer_width = "64")]
    {
        let (mut read, mut write) = (from, 0usize);
        let end = from.saturating_add(len);
        while read.saturating_add(6) <= end {
            let Some(six) = buf.get(read..).and_then(<[u8]>::first_chunk::<6>).copied() else { break };
            if let Some(dst) = buf.get_mut(write..).and_then(<[u8]>::first_chunk_mut::<8>) {
                *dst = octet(six);
            }
            (read, write) = (read.saturating_add(6), write.saturating_add(8));
        }
        let mut rest = [0u8; 5];
        let tail = end.saturating_sub(read).min(rest.len());
        rest.get_mut(..tail)
            .unwrap_or_default()
            .copy_from_slice(buf.get(read..read.saturating_add(tail)).unwrap_or_default());
        let out = buf.get_mut(write..n).unwrap_or_default();
        encode_exact(URL, rest.get(..tail).unwrap_or_default(), out);
    }
    #[cfg(not(target_pointer_width = "64"))]
    {
        let region = buf.get_mut(..from.saturating_add(len)).unwrap_or_default();
        region.copy_within(from.., n.saturating_sub(len));
        encode_url_in_place(region.get_mut(..n).unwrap_or_default(), n.saturating_sub(len));
    }
    n
}

/// Encodes `input` as base64url without padding at the start of `out`, returning the text.
pub(crate) fn encode_url<'o>(input: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], Error> {
    let needed = encoded_len(input.len());
    let out = out.get_mut(..needed).ok_or(Error::BufferTooSmall { needed })?;
    encode_url_exact(input, out);
    Ok(out)
}

/// Input gathered before each encode: a multiple of 3, so only the last block has a tail.
const BLOCK: usize = 48;

/// A [`Sink`] that base64-encodes what is written into a caller's slice, in one pass.
///
/// JSON arrives in small pieces; they are gathered into 48-byte blocks, each encoded in one
/// call. It never fails while writing: when `out` fills up it keeps counting, so the caller
/// learns exactly how long the output would have been. `STANDARD` picks standard base64 with
/// `=` padding (development tokens) instead of base64url: a type parameter, so the minting of
/// ordinary tokens links no padding code.
pub(crate) struct Encoder<'o, const STANDARD: bool = false> {
    out: &'o mut [u8],
    /// Encoded bytes produced so far (counted even past the end of `out`).
    written: usize,
    pending: [u8; BLOCK],
    pending_len: usize,
}

impl<'o> Encoder<'o> {
    /// An encoder writing base64url without padding.
    pub(crate) fn url(out: &'o mut [u8]) -> Self {
        Self { out, written: 0, pending: [0; BLOCK], pending_len: 0 }
    }
}

impl<'o> Encoder<'o, true> {
    /// An encoder writing standard base64 with padding.
    pub(crate) fn standard(out: &'o mut [u8]) -> Self {
        Self { out, written: 0, pending: [0; BLOCK], pending_len: 0 }
    }
}

impl<const STANDARD: bool> Encoder<'_, STANDARD> {
    /// Encodes the pending bytes; `last` pads the tail (standard alphabet only).
    fn flush(&mut self, last: bool) {
        let input = self.pending.get(..self.pending_len).unwrap_or_default();
        let n = encoded_len(input.len());
        let padded = if last && STANDARD { padded_len(input.len()) } else { n };
        let end = self.written.saturating_add(padded);
        if let Some(dst) = self.out.get_mut(self.written..end) {
            let (chars, pad) = dst.split_at_mut(n);
            if STANDARD {
                encode_exact(STANDARD_ALPHABET, input, chars);
            } else {
                encode_url_exact(input, chars);
            }
            pad.fill(b'=');
        }
        self.written = end;
        self.pending_len = 0;
    }

    /// Flushes the last bytes and returns the encoded length (possibly more than `out` held).
    pub(crate) fn finish(mut self) -> usize {
        self.flush(true);
        self.written
    }
}

impl<const STANDARD: bool> Sink for Encoder<'_, STANDARD> {
    // Inlined so the many constant-length JSON pieces become plain moves, not memcpy calls.
    #[inline]
    fn put(&mut self, data: &[u8]) {
        let room = BLOCK.saturating_sub(self.pending_len);
        let (now, later) = data.split_at(room.min(data.len()));
        self.append(now);
        // The pending block is full whenever more follows: flush it, then take the next
        // block's worth. Bounded by the input's length whatever `flush` does.
        for piece in later.chunks(BLOCK) {
            self.flush(false);
            self.append(piece);
        }
    }
}

impl<const STANDARD: bool> Encoder<'_, STANDARD> {
    /// Appends `bytes` (which fit) to the pending block.
    #[inline]
    fn append(&mut self, bytes: &[u8]) {
        let end = self.pending_len.saturating_add(bytes.len());
        if let Some(dst) = self.pending.get_mut(self.pending_len..end) {
            dst.copy_from_slice(bytes);
            self.pending_len = end;
        }
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
mod tests {
    extern crate std;
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD as B64_STANDARD, URL_SAFE_NO_PAD};

    /// The small targets' decoder (comparisons) and the tables agree on every byte.
    #[test]
    fn range_decoder_matches_the_tables() {
        for b in 0..=255u8 {
            assert_eq!(sextet_by_range(b, Url::LAST_TWO), sextet(Url::TABLE, b), "url {b}");
            assert_eq!(sextet_by_range(b, Standard::LAST_TWO), sextet(Standard::TABLE, b), "standard {b}");
        }
    }

    fn enc(data: &[u8], standard: bool) -> ([u8; 256], usize) {
        fn feed<const S: bool>(mut e: Encoder<'_, S>, data: &[u8]) -> usize {
            // Feed in uneven pieces to cross chunk borders.
            for piece in data.chunks(7) {
                e.put(piece);
            }
            e.finish()
        }
        let mut out = [0u8; 256];
        let n = if standard { feed(Encoder::standard(&mut out), data) } else { feed(Encoder::url(&mut out), data) };
        (out, n)
    }

    /// Validity is accumulated over the characters and checked once: two or more characters
    /// outside the alphabet, in one group of four or in the tail, must not cancel out.
    #[test]
    fn rejects_any_set_of_invalid_characters() {
        let mut out = [0u8; 16];
        for len in [2usize, 3, 4, 6, 7, 8] {
            for mask in 1u32..(1 << len) {
                for bad in [[0xffu8, 0xff], [b'+', b'/'], [b'=', 0x80], [b' ', b'.']] {
                    let input: std::vec::Vec<u8> =
                        (0..len).map(|i| if mask & (1 << i) != 0 { bad[i % 2] } else { b'A' }).collect();
                    assert!(decode_url(Segment::Payload, &input, &mut out).is_err(), "{input:?}");
                }
            }
        }
    }

    /// The same for the standard alphabet (development tokens, and every alphabet on 32-bit
    /// targets): its groups of four go through the trait's own decoder, not the url tables.
    #[test]
    fn standard_alphabet_rejects_any_set_of_invalid_characters() {
        let mut out = [0u8; 16];
        for len in [4usize, 8] {
            for mask in 1u32..(1 << len) {
                for bad in [[0xffu8, 0xff], [b'-', b'_'], [b'=', 0x80], [b' ', b'.']] {
                    // A '+' first puts the input on the standard alphabet's path.
                    let input: std::vec::Vec<u8> = (0..len)
                        .map(|i| {
                            if mask & (1 << i) != 0 {
                                bad[i % 2]
                            } else if i == 0 {
                                b'+'
                            } else {
                                b'A'
                            }
                        })
                        .collect();
                    if !input.contains(&b'+') {
                        continue;
                    }
                    assert!(decode_lenient(&input, &mut out).is_err(), "{input:?}");
                    let mut direct = [0u8; 16];
                    assert!(decode_with::<Standard>(&input, &mut direct).is_err(), "{input:?}");
                }
            }
        }
        assert_eq!(decode_with::<Standard>(b"+/+/", &mut out).unwrap(), [0xfb, 0xff, 0xbf]);
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
            let mut direct = [0u8; 256];
            assert_eq!(encode_url(&data[..len], &mut direct).unwrap(), &want[..w]);
            let mut back = [0u8; 256];
            assert_eq!(decode_url(Segment::Payload, &want[..w], &mut back).unwrap(), &data[..len]);
            let (out, n) = enc(&data[..len], true);
            let w = B64_STANDARD.encode_slice(&data[..len], &mut want).unwrap();
            assert_eq!(&out[..n], &want[..w], "len {len}");
        }
    }

    /// Every 1-, 2- and 3-character input, and a sample of 4-character ones, decode here
    /// exactly when the `base64` crate (strict, no padding) decodes them, to the same bytes.
    #[test]
    #[cfg_attr(miri, ignore = "exhaustive; runs in every ordinary cargo test")]
    fn decoder_agrees_with_the_base64_crate() {
        let strict = base64::engine::GeneralPurpose::new(
            &base64::alphabet::URL_SAFE,
            base64::engine::general_purpose::NO_PAD
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
        );
        let check = |input: &[u8]| {
            let mut ours = [0u8; 8];
            let got = decode_url(Segment::Header, input, &mut ours).map(|d| d.to_vec());
            let want = strict.decode(input).map_err(|_| Error::InvalidBase64 { segment: Segment::Header });
            assert_eq!(got, want, "{input:?}");
        };
        for a in 0..=255u8 {
            check(&[a]);
            for b in 0..=255u8 {
                check(&[a, b]);
                check(&[b'Q', a, b]);
                check(&[a, b, b'A', b'w']);
            }
        }
    }

    #[test]
    fn signatures_decode_only_at_their_exact_canonical_length() {
        let tag: [u8; 64] = core::array::from_fn(|i| (i * 89 % 256) as u8);
        for len in [32, 48, 64] {
            let mut text = [0u8; 100];
            let n = encode_url(&tag[..len], &mut text).unwrap().len();
            let mut out = [0u8; MAX_MAC_LEN];
            assert_eq!(decode_signature(&text[..n], len, &mut out), Some(&tag[..len]));
            // One character more or less, or the length of another algorithm's MAC: refused.
            assert_eq!(decode_signature(&text[..n - 1], len, &mut out), None);
            assert_eq!(decode_signature(&text[..n + 1], len, &mut out), None);
            for other in [32, 48, 64].into_iter().filter(|&o| o != len) {
                assert_eq!(decode_signature(&text[..n], other, &mut out), None);
            }
            // A last character with non-zero spare bits (a second spelling of the same MAC).
            if len % 3 != 0 {
                let mut alias = text;
                alias[n - 1] = URL[usize::from(URL_DECODE[usize::from(text[n - 1])] ^ 1)];
                assert_eq!(decode_signature(&alias[..n], len, &mut out), None);
            }
            let mut padded = text;
            padded[n] = b'=';
            assert_eq!(decode_signature(&padded[..n + 1], len, &mut out), None);
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "exhaustive; runs in every ordinary cargo test")]
    fn in_place_encoding_matches_the_base64_crate() {
        let data: [u8; 100] = core::array::from_fn(|i| (i * 151 % 256) as u8);
        for len in 0..data.len() {
            let n = encoded_len(len);
            let mut buf = [0u8; 200];
            buf[n - len..n].copy_from_slice(&data[..len]);
            encode_url_in_place(&mut buf[..n], n - len);
            assert_eq!(&buf[..n], URL_SAFE_NO_PAD.encode(&data[..len]).as_bytes(), "len {len}");
        }
    }

    /// Moved encoding equals the `base64` crate's for every length and every gap between the
    /// output's start and the input's, on both sides of the room the six-byte steps need.
    #[test]
    #[cfg_attr(miri, ignore = "exhaustive; runs in every ordinary cargo test")]
    fn moved_encoding_matches_the_base64_crate() {
        let data: [u8; 100] = core::array::from_fn(|i| (i * 151 % 256) as u8);
        for len in 0..data.len() {
            let least = encoded_len(len) - len;
            for from in least..least + 50 {
                let mut buf = [0u8; 300];
                buf[from..from + len].copy_from_slice(&data[..len]);
                let n = encode_url_moved(&mut buf[..from + len], from, len);
                assert_eq!(&buf[..n], URL_SAFE_NO_PAD.encode(&data[..len]).as_bytes(), "len {len} from {from}");
            }
        }
        // The pair table holds every two characters.
        for i in 0..4096usize {
            assert_eq!(URL_PAIRS[i].to_le_bytes(), [URL[i >> 6], URL[i & 63]]);
        }
    }

    /// MACs of every algorithm's length, and of every length up to 64, encode as the `base64`
    /// crate encodes them.
    #[test]
    fn macs_encode_like_the_base64_crate() {
        for len in 1..=MAX_MAC_LEN {
            let mut padded: PaddedMac = [0; MAX_MAC_LEN + 8];
            for (i, b) in padded[..len].iter_mut().enumerate() {
                *b = (i * 89 + 255) as u8;
            }
            let mut out = [0u8; 100];
            let n = encoded_len(len);
            encode_mac(&padded, len, &mut out[..n]);
            assert_eq!(&out[..n], URL_SAFE_NO_PAD.encode(&padded[..len]).as_bytes(), "len {len}");
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
        const BAD: Error = Error::InvalidBase64 { segment: Segment::Payload };
        let mut out = [0u8; 32];
        assert_eq!(decode_url(Segment::Payload, b"Zm9v", &mut out).unwrap(), b"foo");
        assert_eq!(decode_url(Segment::Payload, b"Zm8", &mut out).unwrap(), b"fo");
        for bad in [
            &b"Zm8="[..], // padding
            b"Zm9",       // trailing bits non-zero ('9' = 61 = ..1101)
            b"Zm9v Zm9v", // whitespace
            b"Z",         // length % 4 == 1
            b"a+b/",      // standard alphabet
            b"Zm9v\n",
        ] {
            assert_eq!(decode_url(Segment::Payload, bad, &mut out), Err(BAD), "{bad:?}");
        }
        assert_eq!(decode_url(Segment::Payload, b"Zm9vYmFy", &mut out[..2]), Err(Error::BufferTooSmall { needed: 6 }));
    }

    #[test]
    fn lenient_decoding_takes_both_alphabets_and_padding() {
        const BAD: Error = Error::InvalidBase64 { segment: Segment::Payload };
        let mut out = [0u8; 32];
        assert_eq!(decode_lenient(b"YWI=", &mut out).unwrap(), b"ab");
        assert_eq!(decode_lenient(b"YWI", &mut out).unwrap(), b"ab");
        assert_eq!(decode_lenient(b"-_8", &mut out).unwrap(), [0xfb, 0xff]);
        assert_eq!(decode_lenient(b"+/8=", &mut out).unwrap(), [0xfb, 0xff]);
        assert_eq!(decode_lenient(b"YWJ=", &mut out), Err(BAD));
        assert_eq!(decode_lenient(b"YW==", &mut out), Err(BAD)); // 'W' leaves bits
        assert_eq!(decode_lenient(b"YWI==", &mut out), Err(BAD));
        assert_eq!(decode_lenient(b"YQ=", &mut out), Err(BAD));
        assert_eq!(decode_lenient(b"+_8", &mut out), Err(BAD)); // mixed alphabets
    }
}
