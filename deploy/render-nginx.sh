#!/usr/bin/env sh
# Render deploy/nginx.conf: render-nginx.sh PREFIX LISTEN APP > nginx.conf
# e.g. render-nginx.sh /var/lib/pitboss-nginx 0.0.0.0:80 127.0.0.1:8000
set -eu
sed -e "s#@PREFIX@#$1#g" -e "s#@LISTEN@#$2#g" -e "s#@APP@#$3#g" "$(dirname "$0")/nginx.conf"
