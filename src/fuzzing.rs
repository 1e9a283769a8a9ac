//! Internals exposed to the fuzz targets only (`cargo fuzz` builds with `--cfg fuzzing`), so
//! they can check the codec and the JSON reader and writer against reference implementations.
//! Not part of the API: absent from every ordinary build.

use crate::Error;
use crate::claims::RawClaims;
use crate::error::Segment;
use crate::json::write::{self, Sink as _};

/// Strict base64url decoding; returns the decoded length.
pub fn decode_base64url(input: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    crate::base64::decode_url(Segment::Payload, input, out).map(|d| d.len())
}

/// Development-token payload decoding (standard or url alphabet, optional padding).
pub fn decode_base64_lenient(input: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    crate::base64::decode_lenient(input, out).map(<[u8]>::len)
}

/// base64url encoding through the streaming encoder, fed in pieces of `piece` bytes.
pub fn encode_base64url(input: &[u8], piece: usize, out: &mut [u8]) -> usize {
    let mut enc = crate::base64::Encoder::url(out);
    for chunk in input.chunks(piece.max(1)) {
        enc.put(chunk);
    }
    enc.finish()
}

/// Validates `doc` as one strict JSON object.
pub fn validate_json_object(doc: &[u8]) -> Result<(), Error> {
    crate::json::read::object_members(doc, Segment::Payload, |_, _| Ok(()))
}

/// Writes `s` as a JSON string (`JSON.stringify` escaping); returns the length needed.
pub fn write_json_string(s: &str, out: &mut [u8]) -> usize {
    let mut sink = write::SliceSink { out, len: 0 };
    write::string(&mut sink, s);
    sink.len
}

/// Reads the registered claims with the one-pass reader (if it takes the shape) and the
/// general one; returns both results as debug text for comparison.
pub fn parse_claims_both(json: &str, fast: &mut dyn core::fmt::Write, general: &mut dyn core::fmt::Write) {
    let _ = write!(fast, "{:?}", RawClaims::parse_flat(json));
    let _ = write!(general, "{:?}", RawClaims::parse_general(json));
}

/// Deserializes `T` from `doc` with `verify_as`'s deserializer (for documents the strict
/// reader has validated), unescaping strings into `scratch`; `Err` says only that it failed.
pub fn deserialize_validated<'de, T: serde::Deserialize<'de>>(doc: &'de str, scratch: &mut [u8]) -> Result<T, ()> {
    crate::json::de::from_validated(doc, scratch).map_err(|_| ())
}
