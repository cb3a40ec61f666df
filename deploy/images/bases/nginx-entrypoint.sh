#!/bin/sh
# The entry point of the Nginx base made by make-bases.sh, doing what the registry's Nginx images do before
# Nginx starts: every NAME.template in NGINX_ENVSUBST_TEMPLATE_DIR (/etc/nginx/templates) is written to
# NGINX_ENVSUBST_OUTPUT_DIR (/etc/nginx/conf.d) as NAME with the environment's variables put in — only
# those whose names match NGINX_ENVSUBST_FILTER when it is set, so Nginx's own $variables stay as written.
set -eu
templates=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
out=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
if [ "${1:-}" = nginx ] && [ -d "$templates" ]; then
    names=$(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' | grep -E -- "${NGINX_ENVSUBST_FILTER:-.}" |
        sed 's/^/$/' | tr '\n' ' ') || true
    for template in "$templates"/*.template; do
        [ -e "$template" ] || continue
        target="$out/$(basename "$template" .template)"
        envsubst "$names" <"$template" >"$target"
    done
fi
exec "$@"
