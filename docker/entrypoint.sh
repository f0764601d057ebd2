#!/bin/sh
# Container entrypoint of the weilinli image.
# No arguments: apply the migrations, then serve with uvicorn (WEB_CONCURRENCY workers).
# Arguments: run them instead, e.g. `docker compose run --rm api weilinli create-admin ...`.
set -eu

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

weilinli migrate
# `weilinli serve` reads X-Forwarded-For only with BEHIND_PROXY=true, and then only from FORWARDED_ALLOW_IPS
# (production refuses BEHIND_PROXY without it).
exec weilinli serve --host 0.0.0.0 --port 8000
