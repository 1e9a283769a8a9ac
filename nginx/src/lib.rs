//! `ngx_http_stackjwt_module`: an NGINX dynamic module that checks Stream Chat tokens in the
//! access phase, in-process, with [`stackjwt`].
//!
//! Build it with `nginx/build.sh` (it configures NGINX's source as the installed nginx was
//! built and sets the `stackjwt_nginx` cfg that compiles the NGINX glue, `src/module.rs`);
//! without that cfg this crate is the decision logic alone ([`check`]), tested without NGINX.

// A std crate: the core crate's no_std import lint does not apply.
#![allow(clippy::std_instead_of_core)]

pub mod check;
#[cfg(stackjwt_nginx)]
mod module;
