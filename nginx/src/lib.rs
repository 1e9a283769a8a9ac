//! `ngx_http_stackjwt_module`: an NGINX dynamic module that checks Stream Chat tokens in the
//! access phase, in-process, with [`stackjwt`].
//!
//! Build it with `nginx/build.sh` (it configures NGINX's source as the installed nginx was
//! built and sets the `stackjwt_nginx` cfg that compiles the glue in [`module`]-private code);
//! without that cfg this crate is the decision logic alone ([`check`]), tested without NGINX.

pub mod check;
#[cfg(stackjwt_nginx)]
mod module;
