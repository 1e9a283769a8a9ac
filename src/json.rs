//! JSON: the writer matches ECMAScript `JSON.stringify` byte for byte (so minted tokens equal
//! Stream's JS SDK's); the reader is a strict, depth-bounded RFC 8259 scanner.

pub(crate) mod de;
pub(crate) mod read;
pub(crate) mod ser;
pub(crate) mod write;

const ONES: u64 = u64::from_le_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);

/// The high bit of each byte of `x` that is zero: exact for the lowest such byte (a borrow
/// only starts at a zero byte), possibly set above it.
#[cfg_attr(not(any(target_pointer_width = "64", fuzzing, test)), allow(dead_code))]
const fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// The position of the first byte of `s` that ends a JSON string's plain content: `"`, `\`
/// or a control character. Eight bytes at a time.
#[cfg_attr(not(any(target_pointer_width = "64", fuzzing, test)), allow(dead_code))]
pub(crate) fn string_end(s: &[u8]) -> Option<usize> {
    const QUOTES: u64 = u64::from_le_bytes([b'"'; 8]);
    const BACKSLASHES: u64 = u64::from_le_bytes([b'\\'; 8]);
    const SPACES: u64 = u64::from_le_bytes([0x20; 8]);
    let (words, tail) = s.as_chunks::<8>();
    for (i, w) in words.iter().enumerate() {
        let x = u64::from_le_bytes(*w);
        // Bytes below 0x20 (the borrow, like a zero's, starts only at such a byte).
        let control = x.wrapping_sub(SPACES) & !x & HIGHS;
        let found = zero_bytes(x ^ QUOTES) | zero_bytes(x ^ BACKSLASHES) | control;
        if found != 0 {
            let byte = usize::try_from(found.trailing_zeros() / 8).unwrap_or(0);
            return Some(i.saturating_mul(8).saturating_add(byte));
        }
    }
    let start = s.len().saturating_sub(tail.len());
    tail.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).map(|p| start.saturating_add(p))
}
