//! Low-level JSON output: strings escaped exactly as `JSON.stringify` does, and integers.

/// Where JSON text goes. Writing never fails; a sink that runs out of room keeps counting.
pub(crate) trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

/// A sink that only counts, for exact length calculations.
#[derive(Debug, Default)]
pub(crate) struct Counter(pub(crate) usize);

impl Sink for Counter {
    fn put(&mut self, bytes: &[u8]) {
        self.0 = self.0.saturating_add(bytes.len());
    }
}

/// A sink writing into a slice; past its end it only counts, so the caller learns the
/// length that was needed.
#[derive(Debug)]
pub(crate) struct SliceSink<'a> {
    pub(crate) out: &'a mut [u8],
    pub(crate) len: usize,
}

impl Sink for SliceSink<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        let end = self.len.saturating_add(bytes.len());
        if let Some(dst) = self.out.get_mut(self.len..end) {
            copy(dst, bytes);
        }
        self.len = end;
    }
}

/// `dst.copy_from_slice(src)` (equal lengths): on 64-bit targets pieces up to 16 bytes (most
/// JSON pieces: names, punctuation, numbers, short strings) as two overlapping words or
/// halves, not a call to memcpy.
#[inline]
fn copy(dst: &mut [u8], src: &[u8]) {
    #[cfg(target_pointer_width = "64")]
    {
        let n = src.len();
        if n.wrapping_sub(8) <= 8 {
            copy_ends::<8>(dst, src);
            return;
        }
        if n.wrapping_sub(4) < 4 {
            copy_ends::<4>(dst, src);
            return;
        }
        if n < 4 {
            // The first, middle and last bytes: all of one, two or three (a loop would be
            // turned into a memcpy call).
            for i in [0, n / 2, n.saturating_sub(1)] {
                if let (Some(d), Some(s)) = (dst.get_mut(i), src.get(i)) {
                    *d = *s;
                }
            }
            return;
        }
    }
    dst.copy_from_slice(src);
}

/// Copies the first and the last `N` bytes of `src` (at least `N`, at most `2 * N` long).
#[cfg(target_pointer_width = "64")]
#[inline(always)]
fn copy_ends<const N: usize>(dst: &mut [u8], src: &[u8]) {
    if let (Some(d), Some(s)) = (dst.first_chunk_mut::<N>(), src.first_chunk::<N>()) {
        *d = *s;
    }
    if let (Some(d), Some(s)) = (dst.last_chunk_mut::<N>(), src.last_chunk::<N>()) {
        *d = *s;
    }
}

impl core::fmt::Write for SliceSink<'_> {
    /// Writes `s` escaped as JSON string contents.
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        string_contents(self, s);
        Ok(())
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The escape for byte `b`, or `None` when it is written as is. Like `JSON.stringify`: `"` and
/// `\`, the five short control escapes, other control characters as `\u00xx` (lowercase hex);
/// `/`, DEL and all non-ASCII (raw UTF-8) unescaped.
fn escape(b: u8, short: &mut [u8; 6]) -> Option<&[u8]> {
    let two = |c: u8| Some([b'\\', c]);
    let pair = match b {
        b'"' => two(b'"'),
        b'\\' => two(b'\\'),
        0x08 => two(b'b'),
        0x0c => two(b'f'),
        b'\n' => two(b'n'),
        b'\r' => two(b'r'),
        b'\t' => two(b't'),
        0x00..=0x1f => {
            let hex = |nibble: u8| HEX.get(usize::from(nibble)).copied().unwrap_or(b'0');
            *short = [b'\\', b'u', b'0', b'0', hex(b >> 4), hex(b & 0xf)];
            return Some(short);
        }
        _ => None,
    }?;
    short[..2].copy_from_slice(&pair);
    Some(&short[..2])
}

/// Writes `s` as a quoted JSON string.
pub(crate) fn string<S: Sink + ?Sized>(out: &mut S, s: &str) {
    out.put(b"\"");
    string_contents(out, s);
    out.put(b"\"");
}

/// Writes `s` escaped, without the quotes.
pub(crate) fn string_contents<S: Sink + ?Sized>(out: &mut S, s: &str) {
    let bytes = s.as_bytes();
    // On 64-bit targets, a string with nothing to escape (found eight bytes at a time) is
    // written in one piece.
    #[cfg(target_pointer_width = "64")]
    if crate::json::string_end(bytes).is_none() {
        out.put(bytes);
        return;
    }
    let mut run_start = 0;
    let mut buf = [0u8; 6];
    for (i, &b) in bytes.iter().enumerate() {
        if let Some(esc) = escape(b, &mut buf) {
            out.put(bytes.get(run_start..i).unwrap_or_default());
            out.put(esc);
            run_start = i.saturating_add(1);
        }
    }
    out.put(bytes.get(run_start..).unwrap_or_default());
}

/// Writes an unsigned integer in decimal.
pub(crate) fn unsigned<S: Sink + ?Sized>(out: &mut S, n: u128) {
    match u64::try_from(n) {
        Ok(small) => unsigned64(out, small),
        Err(_) => unsigned128(out, n),
    }
}

/// Writes a `u64` in decimal. On 64-bit targets by division (a multiply); on smaller ones by
/// subtracting powers of ten, which keeps the 64-bit division routine (866 bytes on
/// Cortex-M) out of the program.
pub(crate) fn unsigned64<S: Sink + ?Sized>(out: &mut S, n: u64) {
    #[cfg(target_pointer_width = "64")]
    unsigned64_div(out, n);
    #[cfg(not(target_pointer_width = "64"))]
    unsigned64_sub(out, n);
}

/// `unsigned64` without division: each digit counts subtractions of its power of ten.
#[cfg_attr(target_pointer_width = "64", allow(dead_code))]
fn unsigned64_sub<S: Sink + ?Sized>(out: &mut S, mut n: u64) {
    const POWERS: [u64; 20] = [
        10_000_000_000_000_000_000,
        1_000_000_000_000_000_000,
        100_000_000_000_000_000,
        10_000_000_000_000_000,
        1_000_000_000_000_000,
        100_000_000_000_000,
        10_000_000_000_000,
        1_000_000_000_000,
        100_000_000_000,
        10_000_000_000,
        1_000_000_000,
        100_000_000,
        10_000_000,
        1_000_000,
        100_000,
        10_000,
        1_000,
        100,
        10,
        1,
    ];
    let mut buf = [0u8; 20];
    let mut len = 0usize;
    for (i, &power) in POWERS.iter().enumerate() {
        let mut digit = b'0';
        // At most nine subtractions: n is below the previous power, ten of this one.
        while n >= power && digit < b'9' {
            n = n.saturating_sub(power);
            digit = digit.saturating_add(1);
        }
        if digit != b'0' || len > 0 || i == POWERS.len().saturating_sub(1) {
            if let Some(slot) = buf.get_mut(len) {
                *slot = digit;
            }
            len = len.saturating_add(1);
        }
    }
    out.put(buf.get(..len).unwrap_or_default());
}

/// `unsigned64` two digits per division.
#[cfg_attr(not(target_pointer_width = "64"), allow(dead_code))]
fn unsigned64_div<S: Sink + ?Sized>(out: &mut S, n: u64) {
    let mut buf = [0u8; 20];
    out.put(decimal(n, &mut buf));
}

/// The decimal digits of `n`, written at the end of `buf`.
#[cfg_attr(not(target_pointer_width = "64"), allow(dead_code))]
pub(crate) fn decimal(n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let start = buf.len().saturating_sub(digits(n));
    let out = buf.get_mut(start..).unwrap_or_default();
    decimal_exact(n, out);
    out
}

/// The eight decimal digits of `v` (below 10^8, with leading zeros), without a division
/// chain: its two halves of four digits go into the two 32-bit lanes of a word, which split
/// into 16-bit lanes of two digits, then bytes of one, each lane divided by multiplying
/// (exact for these ranges: `x * 10486 >> 20` is `x / 100` below 10^4, `x * 103 >> 10` is
/// `x / 10` below 100).
#[cfg_attr(not(target_pointer_width = "64"), allow(dead_code))]
const fn eight_digits(v: u32) -> [u8; 8] {
    let x = (v / 10_000) as u64 | (((v % 10_000) as u64) << 32);
    let hundreds = (x.wrapping_mul(10_486) >> 20) & 0x0000_007f_0000_007f;
    let pairs = hundreds | (x.wrapping_sub(hundreds.wrapping_mul(100)) << 16);
    let tens = (pairs.wrapping_mul(103) >> 10) & 0x000f_000f_000f_000f;
    let digits = tens | (pairs.wrapping_sub(tens.wrapping_mul(10)) << 8);
    digits.wrapping_add(u64::from_le_bytes([b'0'; 8])).to_le_bytes()
}

/// Writes the decimal digits of `n` into the whole of `out`, which is [`digits`] long:
/// two digits per division, from the end, each pair a two-byte move.
#[cfg_attr(not(target_pointer_width = "64"), allow(dead_code))]
pub(crate) fn decimal_exact(mut n: u64, out: &mut [u8]) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut i = out.len();
    while i >= 8 {
        let low = u32::try_from(n % 100_000_000).unwrap_or(0);
        n /= 100_000_000;
        i = i.saturating_sub(8);
        if let Some(dst) = out.get_mut(i..).and_then(<[u8]>::first_chunk_mut::<8>) {
            *dst = eight_digits(low);
        }
    }
    while i >= 2 {
        let pair = usize::try_from(n % 100).unwrap_or(0).saturating_mul(2);
        n /= 100;
        i = i.saturating_sub(2);
        if let (Some(dst), Some(src)) = (
            out.get_mut(i..).and_then(<[u8]>::first_chunk_mut::<2>),
            PAIRS.get(pair..).and_then(<[u8]>::first_chunk::<2>),
        ) {
            *dst = *src;
        }
    }
    if let Some(first) = out.first_mut().filter(|_| i == 1) {
        *first = b'0'.saturating_add(u8::try_from(n % 10).unwrap_or(0));
    }
}

fn unsigned128<S: Sink + ?Sized>(out: &mut S, mut n: u128) {
    let mut buf = [0u8; 39];
    let mut i = buf.len();
    // One digit per turn, at most 39 (u128::MAX has 39 digits).
    for _ in 0..buf.len() {
        i = i.saturating_sub(1);
        if let Some(d) = buf.get_mut(i) {
            // n % 10 < 10, so the cast cannot truncate.
            *d = b'0'.saturating_add((n % 10) as u8);
        }
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.put(buf.get(i..).unwrap_or_default());
}

/// Writes a signed integer in decimal.
pub(crate) fn signed<S: Sink + ?Sized>(out: &mut S, n: i128) {
    if n < 0 {
        out.put(b"-");
    }
    unsigned(out, n.unsigned_abs());
}

/// The number of decimal digits of `n`, from its base-10 logarithm (no division).
pub(crate) const fn digits(n: u64) -> usize {
    // Today's Unix times (2001 to 2286) have ten digits: no logarithm for them.
    if n >= 1_000_000_000 && n < 10_000_000_000 {
        return 10;
    }
    match n.checked_ilog10() {
        Some(log) => (log as usize).saturating_add(1),
        None => 1,
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
pub(crate) mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    impl Sink for Vec<u8> {
        fn put(&mut self, bytes: &[u8]) {
            self.extend_from_slice(bytes);
        }
    }

    fn s(v: &str) -> std::string::String {
        let mut out = Vec::new();
        string(&mut out, v);
        std::string::String::from_utf8(out).unwrap()
    }

    /// Pieces of every length up to 40 are copied whole, at every offset.
    #[test]
    fn slice_sink_copies_every_length() {
        let src: Vec<u8> = (1..=40u8).collect();
        for len in 0..=40 {
            for at in 0..3 {
                let mut out = [0u8; 50];
                let mut sink = SliceSink { out: &mut out, len: at };
                sink.put(&src[..len]);
                assert_eq!(sink.len, at + len);
                assert_eq!(&out[at..at + len], &src[..len], "len {len} at {at}");
                assert!(out[..at].iter().chain(&out[at + len..]).all(|&b| b == 0), "len {len} at {at}");
            }
        }
    }

    #[test]
    fn escapes_like_json_stringify() {
        // Expected strings are what node's JSON.stringify prints for the same input.
        assert_eq!(s("john"), r#""john""#);
        assert_eq!(s("say \"hi\"\\n"), r#""say \"hi\"\\n""#);
        assert_eq!(s("\u{8}\u{c}\n\r\t"), r#""\b\f\n\r\t""#);
        assert_eq!(s("\u{0}\u{1}\u{1f}\u{7f}"), "\"\\u0000\\u0001\\u001f\u{7f}\"");
        assert_eq!(s("a/b</script>"), r#""a/b</script>""#);
        assert_eq!(s("jürgen \u{2028} 😀"), "\"jürgen \u{2028} 😀\"");
    }

    #[test]
    fn integers() {
        for (n, want) in [
            (0u128, "0"),
            (7, "7"),
            (1_700_000_000, "1700000000"),
            (u128::MAX, "340282366920938463463374607431768211455"),
        ] {
            let mut out = Vec::new();
            unsigned(&mut out, n);
            assert_eq!(out, want.as_bytes());
        }
        let mut n = 1u64;
        for _ in 0..200 {
            for m in [n.wrapping_sub(1), n, n.wrapping_add(1), u64::MAX - n + 1] {
                for f in [unsigned64::<Vec<u8>>, unsigned64_sub, unsigned64_div] {
                    let mut out = Vec::new();
                    f(&mut out, m);
                    assert_eq!(out, std::format!("{m}").as_bytes(), "{m}");
                }
            }
            n = n.saturating_mul(3);
        }
        for n in [i128::MIN, i128::from(i64::MIN), -10, -9, -1, 0, 1, 9, 10, i128::MAX] {
            let mut out = Vec::new();
            signed(&mut out, n);
            assert_eq!(out, std::format!("{n}").as_bytes(), "{n}");
        }
        for n in [0u128, 9, 10, 99, 100, 999, 1000, (1 << 32) - 1, 1 << 32, 1 << 53, u128::from(u64::MAX)]
            .into_iter()
            .chain([u128::from(u64::MAX) + 1, 10u128.pow(38) - 1, 10u128.pow(38), u128::MAX])
        {
            let mut out = Vec::new();
            unsigned(&mut out, n);
            assert_eq!(out, std::format!("{n}").as_bytes(), "{n}");
        }
        for v in (0..100_000_000u32).step_by(9_973).chain([0, 9, 10, 99, 100, 9_999, 10_000, 99_999_999]) {
            assert_eq!(eight_digits(v), *std::format!("{v:08}").as_bytes().first_chunk::<8>().unwrap(), "{v}");
        }
        // digits agrees with the formatted length everywhere it matters.
        let mut p = 1u64;
        for _ in 1..=20 {
            for m in [p - 1, p, p.saturating_add(1), p.saturating_mul(5)] {
                assert_eq!(digits(m), std::format!("{m}").len(), "{m}");
                let mut buf = [0u8; 20];
                assert_eq!(decimal(m, &mut buf), std::format!("{m}").as_bytes());
            }
            p = p.saturating_mul(10);
        }
        // digits at every power of ten and either side of it.
        let mut p = 1u64;
        for d in 1..=20 {
            assert_eq!(digits(p), d, "{p}");
            assert_eq!(digits(p - 1), if p == 1 { 1 } else { d - 1 }, "{}", p - 1);
            assert_eq!(digits(p.saturating_add(1)), d, "{}", p + 1);
            p = p.saturating_mul(10);
        }
        assert_eq!(digits(u64::MAX), 20);
    }
}
