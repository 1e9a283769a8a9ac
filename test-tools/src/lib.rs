//! Says which outside tools the workspace's tests need and do not find, where a person running
//! `cargo test --workspace --all-features` sees it: its build script prints a `warning:` line
//! per missing tool, with the package to install and the tests that then skip or fail. Nothing
//! depends on this crate; it has no code.
