#!/usr/bin/env bash
# Vendor Chart.js (the back office dashboard's charts) as a static file: fetched once from the
# npm registry at a pinned version and checked against a pinned SHA-256, then committed, so that
# nothing is loaded from the internet at run time (the CSP allows only this origin's scripts).
#
#     scripts/vendor_chartjs.sh            # (re)writes backoffice/static/backoffice/vendor/
#
# To upgrade: change VERSION, run `npm view chart.js@<version> dist.tarball`, download it, put
# its `sha256sum` in SHA256, run this script and commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="4.4.7"
SHA256="af01b7afdbb70017c079b0dc78ef883f860d28fa2644ed78906a39090d07134f"
URL="https://registry.npmjs.org/chart.js/-/chart.js-${VERSION}.tgz"
TARGET="backoffice/static/backoffice/vendor"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
curl -fsSL "$URL" -o "$work/chart.tgz"
echo "${SHA256}  $work/chart.tgz" | sha256sum --check --quiet
tar -xzf "$work/chart.tgz" -C "$work" package/dist/chart.umd.js package/LICENSE.md
mkdir -p "$TARGET"
# the source-map comment would make browsers ask for a file that is not vendored
sed '/^\/\/# sourceMappingURL=/d' "$work/package/dist/chart.umd.js" > "$TARGET/chart.umd.js"
cp "$work/package/LICENSE.md" "$TARGET/chart.js-LICENSE.md"
echo "Chart.js ${VERSION} -> $TARGET/chart.umd.js ($(wc -c < "$TARGET/chart.umd.js") bytes)"
