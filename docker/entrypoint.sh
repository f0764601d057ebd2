#!/bin/sh
# Container entrypoint of the weilinli image.
# No arguments: apply the migrations, then serve with uvicorn (WEB_CONCURRENCY workers).
# Arguments: run them instead, e.g. `docker compose run --rm api weilinli create-admin ...`.
set -eu

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

weilinli migrate
# --proxy-headers trusts X-Forwarded-For/-Proto only from FORWARDED_ALLOW_IPS (uvicorn's default:
# 127.0.0.1). Set FORWARDED_ALLOW_IPS to the reverse proxy's address when there is one.
exec uvicorn app.main:app --host 0.0.0.0 --port 8000 --workers "${WEB_CONCURRENCY:-1}" --proxy-headers
