//! JSON: the writer matches ECMAScript `JSON.stringify` byte for byte (so minted tokens equal
//! Stream's JS SDK's); the reader is a strict, depth-bounded RFC 8259 scanner.

pub(crate) mod read;
pub(crate) mod ser;
pub(crate) mod write;
