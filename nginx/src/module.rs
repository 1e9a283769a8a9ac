//! The NGINX glue: the module's directives, variables and access-phase handler. Every
//! `unsafe` block is here, each under a `// SAFETY:` comment; every entry point NGINX calls
//! catches panics, so none unwinds into C.

#![allow(unsafe_code, non_upper_case_globals, clippy::cast_possible_truncation)]

use core::ffi::{c_char, c_void};
use core::ptr;
use std::panic::{AssertUnwindSafe, catch_unwind};

use ngx::core::{NGX_CONF_ERROR, NGX_CONF_OK, Pool};
use ngx::ffi::{
    NGX_CONF_TAKE1, NGX_DECLINED, NGX_DONE, NGX_ERROR, NGX_HTTP_INTERNAL_SERVER_ERROR, NGX_HTTP_LOC_CONF,
    NGX_HTTP_LOC_CONF_OFFSET, NGX_HTTP_MAIN_CONF, NGX_HTTP_MODULE, NGX_HTTP_SRV_CONF, NGX_HTTP_VAR_NOCACHEABLE,
    NGX_LOG_EMERG, NGX_OK, ngx_array_push, ngx_chain_t, ngx_command_t, ngx_conf_log_error, ngx_conf_t,
    ngx_create_temp_buf, ngx_http_add_variable, ngx_http_core_main_conf_t, ngx_http_core_module,
    ngx_http_discard_request_body, ngx_http_finalize_request, ngx_http_handler_pt, ngx_http_module_t,
    ngx_http_output_filter, ngx_http_phases_NGX_HTTP_ACCESS_PHASE, ngx_http_request_t, ngx_http_send_header,
    ngx_http_variable_value_t, ngx_int_t, ngx_list_t, ngx_module_t, ngx_pcalloc, ngx_pnalloc, ngx_str_t,
    ngx_table_elt_t, ngx_uint_t,
};
use ngx::http::HttpModuleConfExt as _;
use ngx::ngx_string;

use crate::check::{self, Allowed, Credentials, Refused, Scratch, Secret, Settings};

/// What a request's check found, for the variables: in the request's pool. Only the user id
/// is copied when the check ends (the token's scratch goes away); the rest becomes text when a
/// variable is read, so a location that reads none pays for none.
#[derive(Clone, Copy)]
struct Found {
    principal: &'static str,
    user_id: ngx_str_t,
    exp: Option<u64>,
}

const EVERYWHERE: ngx_uint_t =
    (NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1) as ngx_uint_t;

const fn command(
    name: ngx_str_t,
    set: unsafe extern "C" fn(*mut ngx_conf_t, *mut ngx_command_t, *mut c_void) -> *mut c_char,
) -> ngx_command_t {
    ngx_command_t {
        name,
        type_: EVERYWHERE,
        set: Some(set),
        conf: NGX_HTTP_LOC_CONF_OFFSET as ngx_uint_t,
        offset: 0,
        post: ptr::null_mut(),
    }
}

/// Defines a directive's handler: `$apply(settings, value)` on the block's settings.
macro_rules! directive {
    ($name:ident, $apply:expr) => {
        unsafe extern "C" fn $name(cf: *mut ngx_conf_t, cmd: *mut ngx_command_t, conf: *mut c_void) -> *mut c_char {
            // SAFETY: NGINX calls a directive's handler with the configuration being parsed,
            // the directive's command and this module's settings of the block
            // (`create_loc_conf`'s), all valid for the call.
            unsafe { set_directive(cf, cmd, conf, $apply) }
        }
    };
}

directive!(set_enabled, |s: &mut Settings, v: &[u8]| set(&mut s.enabled, check::on_off(v)?));
/// Defines a file directive's handler: `$apply(settings, path)`, the path read from the
/// configuration file's directory when relative (as NGINX's own file directives read theirs).
macro_rules! file_directive {
    ($name:ident, $apply:expr) => {
        unsafe extern "C" fn $name(cf: *mut ngx_conf_t, cmd: *mut ngx_command_t, conf: *mut c_void) -> *mut c_char {
            // SAFETY: as `directive!`'s; `cf.cycle` is the cycle being configured, whose
            // `conf_prefix` NGINX set before reading the configuration.
            let prefix = unsafe { str_bytes(&(*(*cf).cycle).conf_prefix) };
            let prefix = String::from_utf8_lossy(prefix).into_owned();
            // SAFETY: as `directive!`'s.
            unsafe {
                set_directive(cf, cmd, conf, move |s: &mut Settings, v: &[u8]| {
                    $apply(s, check::resolve(&prefix, &path(v)?))
                })
            }
        }
    };
}

file_directive!(set_secret_file, |s: &mut Settings, p: String| set(&mut s.secret, Secret::read(&p)?));
file_directive!(set_previous_secret_file, |s: &mut Settings, p: String| set(&mut s.previous, Secret::read(&p)?));

/// The bytes of an NGINX string.
///
/// # Safety
/// `s.data` points at `s.len` bytes that outlive the borrow (or `s.len` is 0).
unsafe fn str_bytes(s: &ngx_str_t) -> &[u8] {
    if s.len == 0 || s.data.is_null() {
        return &[];
    }
    // SAFETY: (caller) `data` holds `len` bytes.
    unsafe { core::slice::from_raw_parts(s.data, s.len) }
}
directive!(set_alg, |s: &mut Settings, v: &[u8]| set(&mut s.alg, check::algorithm(v)?));
directive!(set_weak_secret, |s: &mut Settings, v: &[u8]| set(&mut s.weak, check::on_off(v)?));
directive!(set_leeway, |s: &mut Settings, v: &[u8]| set(&mut s.leeway, check::seconds(v)?));
directive!(set_require_exp, |s: &mut Settings, v: &[u8]| set(&mut s.require_exp, check::on_off(v)?));
directive!(set_allow_anonymous, |s: &mut Settings, v: &[u8]| set(&mut s.allow_anonymous, check::on_off(v)?));
directive!(set_allow_dev, |s: &mut Settings, v: &[u8]| set(&mut s.allow_dev, check::on_off(v)?));
directive!(set_query_tokens, |s: &mut Settings, v: &[u8]| set(&mut s.query, check::query_tokens(v)?));

fn set<T>(slot: &mut Option<T>, value: T) -> Result<(), String> {
    if slot.is_some() {
        return Err("is duplicate".into());
    }
    *slot = Some(value);
    Ok(())
}

fn path(value: &[u8]) -> Result<String, String> {
    String::from_utf8(value.to_vec()).map_err(|_| "wants a UTF-8 path".into())
}

static mut COMMANDS: [ngx_command_t; 11] = [
    command(ngx_string!("stackjwt"), set_enabled),
    command(ngx_string!("stackjwt_secret_file"), set_secret_file),
    command(ngx_string!("stackjwt_previous_secret_file"), set_previous_secret_file),
    command(ngx_string!("stackjwt_alg"), set_alg),
    command(ngx_string!("stackjwt_weak_secret"), set_weak_secret),
    command(ngx_string!("stackjwt_leeway"), set_leeway),
    command(ngx_string!("stackjwt_require_exp"), set_require_exp),
    command(ngx_string!("stackjwt_allow_anonymous"), set_allow_anonymous),
    command(ngx_string!("stackjwt_allow_dev"), set_allow_dev),
    command(ngx_string!("stackjwt_query_tokens"), set_query_tokens),
    ngx_command_t::empty(),
];

static CONTEXT: ngx_http_module_t = ngx_http_module_t {
    preconfiguration: Some(preconfiguration),
    postconfiguration: Some(postconfiguration),
    create_main_conf: None,
    init_main_conf: None,
    create_srv_conf: None,
    merge_srv_conf: None,
    create_loc_conf: Some(create_loc_conf),
    merge_loc_conf: Some(merge_loc_conf),
};

/// The module NGINX loads (`load_module .../libngx_http_stackjwt_module.so`), exported by
/// name.
#[unsafe(no_mangle)]
#[allow(unreachable_pub)]
pub static mut ngx_http_stackjwt_module: ngx_module_t = ngx_module_t {
    ctx: ptr::addr_of!(CONTEXT).cast_mut().cast(),
    commands: ptr::addr_of_mut!(COMMANDS).cast(),
    type_: NGX_HTTP_MODULE as ngx_uint_t,
    ..ngx_module_t::default()
};

ngx::ngx_modules!(ngx_http_stackjwt_module);

/// This module's index among the request's and blocks' per-module slots.
fn ctx_index() -> usize {
    // SAFETY: NGINX writes ctx_index once, while loading the configuration, before any
    // handler that reads it runs; it is only read afterwards.
    unsafe { (*ptr::addr_of!(ngx_http_stackjwt_module)).ctx_index }
}

/// Logs `message` against the configuration line being parsed.
fn conf_error(cf: *mut ngx_conf_t, message: &str) {
    // Only printable characters reach the log.
    let clean: String = message.chars().map(|c| if c.is_control() { '?' } else { c }).collect();
    // SAFETY: `cf` is the configuration NGINX is parsing; "%*s" reads exactly `len` bytes
    // from `clean`, which outlives the call.
    unsafe {
        ngx_conf_log_error(NGX_LOG_EMERG as ngx_uint_t, cf, 0, c"%*s".as_ptr(), clean.len(), clean.as_ptr());
    }
}

/// Applies one directive's value to the block's settings, and reports a refusal as NGINX
/// reports its own (`nginx -t` fails with it).
///
/// # Safety
/// The arguments NGINX passes a directive handler.
unsafe fn set_directive(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    conf: *mut c_void,
    apply: impl FnOnce(&mut Settings, &[u8]) -> Result<(), String>,
) -> *mut c_char {
    // SAFETY: (caller) `cf.args` holds the directive's words as `ngx_str_t`s, its name first;
    // TAKE1 means exactly two; `conf` is this block's `Settings`.
    let (name, value, settings) = unsafe {
        let args = &*(*cf).args;
        let words = core::slice::from_raw_parts(args.elts.cast::<ngx_str_t>(), args.nelts);
        let bytes = |s: &ngx_str_t| if s.len == 0 { &[][..] } else { core::slice::from_raw_parts(s.data, s.len) };
        let name = String::from_utf8_lossy(bytes(&(*cmd).name)).into_owned();
        (name, words.get(1).map(bytes).unwrap_or_default(), &mut *conf.cast::<Settings>())
    };
    match catch_unwind(AssertUnwindSafe(|| apply(settings, value))) {
        Ok(Ok(())) => NGX_CONF_OK,
        Ok(Err(why)) => {
            conf_error(cf, &format!("\"{name}\" {why}"));
            NGX_CONF_ERROR
        }
        Err(_) => {
            conf_error(cf, &format!("\"{name}\": internal error"));
            NGX_CONF_ERROR
        }
    }
}

unsafe extern "C" fn create_loc_conf(cf: *mut ngx_conf_t) -> *mut c_void {
    // SAFETY: `cf.pool` is the configuration's pool, alive as long as the configuration;
    // `allocate` registers a cleanup that drops (and so wipes) the settings with it.
    let pool = unsafe { Pool::from_ngx_pool((*cf).pool) };
    catch_unwind(AssertUnwindSafe(|| pool.allocate(Settings::default()).cast::<c_void>())).unwrap_or(ptr::null_mut())
}

unsafe extern "C" fn merge_loc_conf(cf: *mut ngx_conf_t, parent: *mut c_void, child: *mut c_void) -> *mut c_char {
    // SAFETY: NGINX passes two blocks' settings, both made by `create_loc_conf`, distinct.
    let (parent, child) = unsafe { (&*parent.cast::<Settings>(), &mut *child.cast::<Settings>()) };
    match catch_unwind(AssertUnwindSafe(|| child.merge(parent))) {
        Ok(Ok(())) => NGX_CONF_OK,
        Ok(Err(why)) => {
            conf_error(cf, &format!("stackjwt: {why}"));
            NGX_CONF_ERROR
        }
        Err(_) => {
            conf_error(cf, "stackjwt: internal error");
            NGX_CONF_ERROR
        }
    }
}

unsafe extern "C" fn preconfiguration(cf: *mut ngx_conf_t) -> ngx_int_t {
    for (which, name) in [
        (0usize, ngx_string!("stackjwt_principal")),
        (1, ngx_string!("stackjwt_user_id")),
        (2, ngx_string!("stackjwt_exp")),
    ] {
        let mut name = name;
        // SAFETY: `cf` is the configuration being read; NGINX copies the name.
        let var = unsafe { ngx_http_add_variable(cf, &raw mut name, NGX_HTTP_VAR_NOCACHEABLE as ngx_uint_t) };
        if var.is_null() {
            return NGX_ERROR as ngx_int_t;
        }
        // SAFETY: `var` is the variable NGINX just made, in the configuration's pool.
        unsafe {
            (*var).get_handler = Some(variable);
            (*var).data = which;
        }
    }
    NGX_OK as ngx_int_t
}

unsafe extern "C" fn postconfiguration(cf: *mut ngx_conf_t) -> ngx_int_t {
    // SAFETY: after the http block is read, its core main configuration exists; its access
    // phase's handler array takes `ngx_http_handler_pt`s.
    unsafe {
        let Some(core) =
            (*cf).http_main_conf_unchecked::<ngx_http_core_main_conf_t>(&*ptr::addr_of!(ngx_http_core_module))
        else {
            return NGX_ERROR as ngx_int_t;
        };
        let Some(phase) = (*core.as_ptr()).phases.get_mut(ngx_http_phases_NGX_HTTP_ACCESS_PHASE as usize) else {
            return NGX_ERROR as ngx_int_t;
        };
        let slot = ngx_array_push(&raw mut phase.handlers).cast::<ngx_http_handler_pt>();
        if slot.is_null() {
            return NGX_ERROR as ngx_int_t;
        }
        *slot = Some(access);
    }
    NGX_OK as ngx_int_t
}

/// A request's header values named `name` (any case), in order.
///
/// # Safety
/// `list` is a request's `headers_in.headers`.
unsafe fn headers<'r>(list: &'r ngx_list_t, mut each: impl FnMut(&'r [u8], &'r [u8])) {
    let mut part = &raw const list.part;
    while !part.is_null() {
        // SAFETY: (caller) each part holds `nelts` table elements; `next` ends the chain.
        unsafe {
            let elts = core::slice::from_raw_parts((*part).elts.cast::<ngx_table_elt_t>(), (*part).nelts);
            for h in elts {
                // A zero hash marks a header NGINX dropped.
                if h.hash != 0 && !h.key.data.is_null() && !h.value.data.is_null() {
                    each(
                        core::slice::from_raw_parts(h.key.data, h.key.len),
                        core::slice::from_raw_parts(h.value.data, h.value.len),
                    );
                }
            }
            part = (*part).next;
        }
    }
}

unsafe extern "C" fn access(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: NGINX runs access-phase handlers with a live request.
    catch_unwind(AssertUnwindSafe(|| unsafe { check_request(r) }))
        .unwrap_or(NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t)
}

/// # Safety
/// `r` is a live request in its access phase.
unsafe fn check_request(r: *mut ngx_http_request_t) -> ngx_int_t {
    let index = ctx_index();
    // SAFETY: (caller) a request's `loc_conf` has a slot per module; ours holds the
    // location's `Settings`, and `ctx` a slot that is null until this handler fills it.
    let (settings, done) =
        unsafe { (&*(*(*r).loc_conf.add(index)).cast::<Settings>(), !(*(*r).ctx.add(index)).is_null()) };
    if !settings.enabled() {
        return NGX_DECLINED as ngx_int_t;
    }
    if done {
        // Checked already (the phase ran again): allowed then.
        return NGX_OK as ngx_int_t;
    }
    let mut credentials = Credentials::default();
    // SAFETY: (caller) the request's headers and query, valid while it lives.
    unsafe {
        headers(&(*r).headers_in.headers, |name, value| {
            if name.eq_ignore_ascii_case(b"authorization") {
                credentials.authorization.push(value);
            } else if name.eq_ignore_ascii_case(b"stream-auth-type") {
                credentials.auth_type.push(value);
            } else if name.eq_ignore_ascii_case(b"upgrade") && value.eq_ignore_ascii_case(b"websocket") {
                credentials.websocket = true;
            }
        });
        let args = &(*r).args;
        if args.len > 0 && !args.data.is_null() {
            credentials.query = core::slice::from_raw_parts(args.data, args.len);
        }
    }
    // NGINX's own clock, read once per turn of its event loop.
    let now = u64::try_from(ngx::ffi::ngx_time()).unwrap_or(0);
    let mut scratch = Scratch::default();
    match check::check(settings, &credentials, now, &mut scratch) {
        // SAFETY: (caller) the request is live; its pool outlives the variables' reads.
        Ok(allowed) => unsafe { remember(r, index, &allowed) },
        // SAFETY: (caller) as above.
        Err(refused) => unsafe { refuse(r, &refused) },
    }
}

/// Copies `bytes` into the request's pool.
///
/// # Safety
/// `r` is a live request.
unsafe fn pool_str(r: *mut ngx_http_request_t, bytes: &[u8]) -> Option<ngx_str_t> {
    if bytes.is_empty() {
        return Some(ngx_str_t { len: 0, data: ptr::null_mut() });
    }
    // SAFETY: (caller) the request's pool; the copy is `bytes.len()` long.
    unsafe {
        let data = ngx_pnalloc((*r).pool, bytes.len()).cast::<u8>();
        if data.is_null() {
            return None;
        }
        ptr::copy_nonoverlapping(bytes.as_ptr(), data, bytes.len());
        Some(ngx_str_t { len: bytes.len(), data })
    }
}

/// Keeps what the variables read, and lets the request through.
///
/// # Safety
/// `r` is a live request.
unsafe fn remember(r: *mut ngx_http_request_t, index: usize, allowed: &Allowed<'_>) -> ngx_int_t {
    // SAFETY: (caller) the request's pool and its per-module `ctx` slots.
    unsafe {
        let Some(user_id) = pool_str(r, allowed.user_id.unwrap_or("").as_bytes()) else {
            return NGX_ERROR as ngx_int_t;
        };
        let found = ngx_pcalloc((*r).pool, size_of::<Found>()).cast::<Found>();
        if found.is_null() {
            return NGX_ERROR as ngx_int_t;
        }
        found.write(Found { principal: allowed.principal, user_id, exp: allowed.exp });
        *(*r).ctx.add(index) = found.cast();
    }
    NGX_OK as ngx_int_t
}

/// Answers Stream's status and JSON body, and ends the request.
///
/// # Safety
/// `r` is a live request in its access phase.
unsafe fn refuse(r: *mut ngx_http_request_t, refused: &Refused) -> ngx_int_t {
    // SAFETY: (caller) the standard way a handler answers a request itself: drop the body,
    // send the head, send one buffer of the request's pool as the last, finalize; NGX_DONE
    // tells the phase engine that the request is finished.
    unsafe {
        let rc = ngx_http_discard_request_body(r);
        if rc != NGX_OK as ngx_int_t {
            return rc;
        }
        let body = refused.body.as_bytes();
        let out = &mut (*r).headers_out;
        out.status = ngx_uint_t::from(refused.status);
        out.content_type = ngx_string!("application/json");
        out.content_type_len = out.content_type.len;
        out.content_type_lowcase = ptr::null_mut();
        out.content_length_n = body.len() as i64;
        let rc = ngx_http_send_header(r);
        if rc == NGX_ERROR as ngx_int_t || rc > NGX_OK as ngx_int_t || (*r).header_only() != 0 {
            ngx_http_finalize_request(r, rc);
            return NGX_DONE as ngx_int_t;
        }
        let buf = ngx_create_temp_buf((*r).pool, body.len());
        if buf.is_null() {
            ngx_http_finalize_request(r, NGX_ERROR as ngx_int_t);
            return NGX_DONE as ngx_int_t;
        }
        ptr::copy_nonoverlapping(body.as_ptr(), (*buf).pos, body.len());
        (*buf).last = (*buf).pos.add(body.len());
        (*buf).set_last_buf(u32::from((*r).main == r));
        (*buf).set_last_in_chain(1);
        let mut chain = ngx_chain_t { buf, next: ptr::null_mut() };
        let rc = ngx_http_output_filter(r, &raw mut chain);
        ngx_http_finalize_request(r, rc);
    }
    NGX_DONE as ngx_int_t
}

/// `$stackjwt_principal`, `$stackjwt_user_id`, `$stackjwt_exp`: empty for what the request
/// does not have, not found where the module did not check it.
unsafe extern "C" fn variable(
    r: *mut ngx_http_request_t,
    v: *mut ngx_http_variable_value_t,
    which: usize,
) -> ngx_int_t {
    // SAFETY: NGINX passes a live request and the value to fill.
    catch_unwind(AssertUnwindSafe(|| unsafe { variable_value(r, v, which) })).unwrap_or(NGX_ERROR as ngx_int_t)
}

/// # Safety
/// `r` is a live request and `v` its variable value to fill.
unsafe fn variable_value(r: *mut ngx_http_request_t, v: *mut ngx_http_variable_value_t, which: usize) -> ngx_int_t {
    // SAFETY: (caller) as above; our `ctx` slot is null or the `Found` that `remember` wrote
    // in the request's pool. The principal is a string of this module's: NGINX only reads a
    // variable's data.
    unsafe {
        let found = (*(*r).ctx.add(ctx_index())).cast::<Found>();
        let v = &mut *v;
        if found.is_null() {
            v.set_not_found(1);
            return NGX_OK as ngx_int_t;
        }
        let found = *found;
        let value = match which {
            0 => ngx_str_t { len: found.principal.len(), data: found.principal.as_ptr().cast_mut() },
            1 => found.user_id,
            _ => match pool_str(r, found.exp.map(|e| e.to_string()).unwrap_or_default().as_bytes()) {
                Some(text) => text,
                None => return NGX_ERROR as ngx_int_t,
            },
        };
        v.data = value.data;
        v.set_len(value.len as u32);
        v.set_valid(1);
        v.set_no_cacheable(0);
        v.set_not_found(0);
    }
    NGX_OK as ngx_int_t
}
