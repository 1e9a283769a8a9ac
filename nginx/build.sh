#!/usr/bin/env bash
# Builds the stackjwt NGINX module for the nginx installed on this machine, and prints the
# module's path as its last line (everything else goes to standard error).
#
#   nginx/build.sh                      # the nginx on PATH, its source in /usr/share/nginx/src
#   NGINX=/opt/nginx/sbin/nginx NGINX_SRC=~/nginx-1.26.2 nginx/build.sh
#
# A module loads only into an nginx built with the same configure arguments (its "module
# signature"), so the source is configured with the arguments `nginx -V` prints; the third-
# party dynamic modules it lists (geoip, image_filter, perl, xslt, mail, stream) are dropped,
# as they change no structure this module uses. The configured copy is kept for the next
# build. Needs: nginx, its source (Debian: nginx-dev), libclang (libclang-dev), and the
# libraries configure checks for (libpcre2-dev, libssl-dev, zlib1g-dev).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
nginx=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
src=${NGINX_SRC:-/usr/share/nginx/src}
fail() { echo "nginx/build.sh: $*" >&2; exit 1; }

[ -x "$nginx" ] || fail "no nginx at $nginx: install it (apt-get install nginx) or set NGINX"
[ -f "$src/configure" ] || fail "no NGINX source at $src: install it (apt-get install nginx-dev) or set NGINX_SRC to the source of $("$nginx" -v 2>&1)"
version=$("$nginx" -v 2>&1 | sed -n 's|^nginx version: [a-z]*/||p')
[ -n "$version" ] || fail "cannot read the version of $nginx"
grep -q "NGINX_VERSION *\"$version\"" "$src/src/core/nginx.h" \
  || fail "$src is not the source of nginx $version: set NGINX_SRC to it"

args=$("$nginx" -V 2>&1 | sed -n 's/^configure arguments: //p')
case " $args " in *" --with-compat "*) ;; *) fail "$nginx was built without --with-compat: it loads no module built apart from it" ;; esac
# Build paths are the packager's (-ffile-prefix-map), and the dynamic modules need libraries
# this module does not.
args=$(printf '%s' "$args" | sed -e 's/-ffile-prefix-map=[^ '"'"']*//g' \
  -e 's/--with-[a-z_]*=dynamic//g' -e 's/--add-dynamic-module=[^ ]*//g')

out=${CARGO_TARGET_DIR:-$root/target}/nginx-module
tree=$out/nginx-$version
if [ ! -f "$tree/objs/ngx_auto_config.h" ] || [ "$(cat "$tree/.stackjwt-configure-args" 2>/dev/null)" != "$args" ]; then
  echo "configuring a copy of $src in $tree (nginx $version)" >&2
  rm -rf "$tree"
  mkdir -p "$out"
  cp -r "$src" "$tree"
  if ! (cd "$tree" && eval "./configure $args") >"$out/configure.log" 2>&1; then
    tail -n 15 "$out/configure.log" >&2
    fail "configure failed (the whole log: $out/configure.log)"
  fi
  printf '%s' "$args" >"$tree/.stackjwt-configure-args"
fi

NGINX_SOURCE_DIR=$tree NGINX_BUILD_DIR=$tree/objs RUSTFLAGS="${RUSTFLAGS:-} --cfg stackjwt_nginx" \
  CARGO_TARGET_DIR=$out cargo build --release --locked -p stackjwt-nginx --manifest-path "$root/Cargo.toml" >&2
echo "$out/release/libngx_http_stackjwt_module.so"
