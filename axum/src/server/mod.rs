//! What the `stackjwt-authz` binary is made of beyond [`authz`](crate::authz): its
//! configuration file, the Redis mirror of every app's revocations, and the admin API.
//! Built with the `server` feature.

pub mod admin;
pub mod config;
pub mod redis;
pub mod time;
