#!/bin/sh
# Fetches the JavaScript libraries of Postman scripts' sandbox from npm, at exact versions whose tarballs'
# sha512 is recorded below (a different tarball stops the fetch), into the package
# (src/orchestra/steps/scripts/vendor/), each with its licence as LICENSE-<name>. The versions are those of
# the sandbox newman 6.2.1 runs scripts in (postman-sandbox 4.7.1), so that scripts behave the same; chai is
# the one Orchestra has used from the start. xml2js (a Node.js module) is bundled for a bare V8 context
# with esbuild; libraries shipped as one file are copied, the larger ones minified. esbuild itself comes from
# package-lock.json beside this script (npm ci checks its integrity), installed into the temporary folder.
set -eu
OUT=${1:?usage: fetch.sh OUTPUT_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$OUT" "$tmp/node_modules" "$tmp/tool"
OUT=$(cd "$OUT" && pwd)  # absolute: the bundler runs in $tmp
cp "$HERE/package.json" "$HERE/package-lock.json" "$tmp/tool/"
(cd "$tmp/tool" && npm ci --no-audit --no-fund --silent)
ESBUILD="$tmp/tool/node_modules/.bin/esbuild"

fetch() {  # fetch NAME VERSION INTEGRITY: the package's files in $tmp/node_modules/NAME
	(cd "$tmp" && npm pack --silent "$1@$2" >/dev/null)
	tarball="$tmp/$(echo "$1" | tr -d @ | tr / -)-$2.tgz"
	# the tarball must be the one recorded here (npm checks only what the registry itself says)
	got=$(node -e 'const c = require("crypto"), f = require("fs");
		process.stdout.write("sha512-" + c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tarball")
	if [ "$got" != "$3" ]; then echo "$1@$2 is not the package recorded here: $got, expected $3" >&2; exit 1; fi
	mkdir -p "$tmp/node_modules/$1"
	tar xzf "$tarball" -C "$tmp/node_modules/$1" --strip-components=1
}
licence() {  # licence NAME: its licence file beside the library
	for file in LICENSE LICENSE.txt LICENSE.md LICENCE; do
		if [ -f "$tmp/node_modules/$1/$file" ]; then cp "$tmp/node_modules/$1/$file" "$OUT/LICENSE-$1"; return; fi
	done
	echo "no licence file in $1" >&2; exit 1
}
minify() {  # minify SOURCE TARGET
	(cd "$tmp" && "$ESBUILD" "$1" --minify --legal-comments=inline --log-level=warning --outfile="$2")
}

fetch chai 4.5.0 sha512-RITGBfijLkBddZvnn8jdqoTypxvqbOLYQkGGxXzeFjVHvudaPw0HNFD9x928/eUwYWd2dPCugVqspGALTZZQKw== && cp "$tmp/node_modules/chai/chai.js" "$OUT/chai.js" && licence chai
fetch lodash 4.17.21 sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg== && cp "$tmp/node_modules/lodash/lodash.min.js" "$OUT/lodash.js" && licence lodash
fetch lodash3 3.10.2 sha512-hI/O+LJKdV0LYa3vCs/cR7qoYGyAB0nxJmdWto/FWPWXiwLG1QvNI5DQ6aExVVP5OFxSYmMwGtD8VEiAusZWXg== && minify node_modules/lodash3/index.js "$OUT/lodash3.js" && licence lodash3
fetch crypto-js 3.3.0 sha512-DIT51nX0dCfKltpRiXV+/TVZq+Qq2NgF4644+K7Ttnla7zEzqc+kjJyiB96BHNyUTBxyjzRcZYpUdZa+QAqi6Q== && minify node_modules/crypto-js/crypto-js.js "$OUT/crypto-js.js" && licence crypto-js
fetch moment 2.30.1 sha512-uEmtNhbDOrWPFS+hdjFCBfy9f2YoyzRpwcl+DqpC6taX21FzsTLQVbMV/W7PzNSX6x/bhC1zA3c2UQ5NzH6how== && cp "$tmp/node_modules/moment/min/moment.min.js" "$OUT/moment.js" && licence moment
fetch tv4 1.3.0 sha512-afizzfpJgvPr+eDkREK4MxJ/+r8nEEHcmitwgnPUqpaP+FpwQyadnxNoSACbgc/b1LsZYtODGoPiFxQrgJgjvw== && minify node_modules/tv4/tv4.js "$OUT/tv4.js" && licence tv4
fetch ajv 6.12.5 sha512-lRF8RORchjpKG50/WFf8xmg7sgCLFiYNNnqdKflk63whMQcWR5ngGjiSXkL9bjxy6B2npOK2HSMN49jEBMSkag== && cp "$tmp/node_modules/ajv/dist/ajv.min.js" "$OUT/ajv.js" && licence ajv
# xml2js and what it needs, bundled: events (EventEmitter), sax, xmlbuilder; `timers` only serves its
# asynchronous mode, which Postman's xml2Json does not use (a synchronous stand-in is given).
fetch xml2js 0.4.23 sha512-ySPiMjM0+pLDftHgXY4By0uswI3SPKLDw/i3UXbnO8M/p28zqexCUoPmQFrYD+/1BzhGJSs2i1ERWKJAtiLrug== && fetch sax 1.4.1 sha512-+aWOz7yVScEGoKNd4PA10LZ8sk0A/z5+nXQG5giUO5rprX9jgYsTdov9qCchZiPIZezbZH+jRut8nPodFAX4Jg== && fetch xmlbuilder 11.0.1 sha512-fDlsI/kFEx7gLvbecc0/ohLG50fugQp8ryHzMTuW9vSa1GJ0XYWKnhsUx7oie3G98+r56aTQIUB4kht42R3JvA== && fetch events 3.3.0 sha512-mQw+2fkQbALzQ7V0MY0IqdnXNOeTtP4r0lN9z7AAawCXgqea7bDii20AYrIBrFd/Hx0M2Ocz6S111CaFkUcb0Q==
echo 'exports.setImmediate = function (fn) { fn.apply(null, Array.prototype.slice.call(arguments, 1)); };' >"$tmp/timers.js"
echo 'module.exports = require("xml2js");' >"$tmp/entry.js"
(cd "$tmp" && "$ESBUILD" entry.js --bundle --minify --format=iife --global-name=xml2js \
	--platform=browser --alias:timers=./timers.js --external:stream --external:string_decoder \
	--legal-comments=inline --log-level=warning --outfile="$OUT/xml2js.js")
for name in xml2js sax xmlbuilder events; do licence "$name"; done
echo "Postman sandbox libraries in $OUT: chai 4.5.0, lodash 4.17.21, lodash 3.10.2, crypto-js 3.3.0, moment 2.30.1, tv4 1.3.0, ajv 6.12.5, xml2js 0.4.23 (sax 1.4.1, xmlbuilder 11.0.1, events 3.3.0)"
