#!/bin/sh
# The image's entry point: the first argument chooses the role.
#   api | executor | ai | migrate | admin-token  an Orchestra command (further arguments are passed on;
#                                                 the services log at ORCHESTRA_LOG_LEVEL, JSON lines)
#   healthcheck                                   probe this container's service (what HEALTHCHECK runs)
#   anything else                                 run as given (a shell, for debugging)
#
# Settings come from ORCHESTRA_* variables (docs/configuration.md). Any of them can instead be read from a
# file, as Compose and Kubernetes mount secrets: ORCHESTRA_<NAME>_FILE=/run/secrets/x sets ORCHESTRA_<NAME>
# to the file's content (a trailing newline dropped). That includes ORCHESTRA_SECRET_KEY_FILE: outside a
# container Orchestra reads that file itself and refuses one that group or others may read, but a mounted
# secret's mode is the container runtime's (Compose mounts file secrets with the host file's), and the
# container has a single user.
set -eu

for name in $(env | sed -n 's/^\(ORCHESTRA_[A-Z0-9_]*\)_FILE=.*$/\1/p'); do
    file=""
    eval "file=\${${name}_FILE}"
    if [ ! -r "$file" ]; then
        echo "orchestra-entrypoint: ${name}_FILE names $file, which cannot be read" >&2
        exit 2
    fi
    value=$(cat "$file")
    export "$name=$value"
    unset "${name}_FILE"
done

role=${1:-api}
[ "$#" -gt 0 ] && shift
case "$role" in
    # A service's logs are a container's output: --verbose makes ORCHESTRA_LOG_LEVEL (default info) apply,
    # where the command line alone would show warnings only.
    api | executor | ai) exec orchestra "$role" --verbose "$@" ;;
    migrate | admin-token) exec orchestra "$role" "$@" ;;
    healthcheck) exec orchestra-healthcheck "$@" ;;
    *) exec "$role" "$@" ;;
esac
