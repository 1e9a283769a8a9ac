//! stackjwt's benches live in `benches/tokens.rs` (`cargo bench -p stackjwt-benches`); this
//! library is empty, so that the peers they compare with are built only for them.
