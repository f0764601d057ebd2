# syntax=docker/dockerfile:1
# 微邻里 (Weilinli) API image.
#   docker build -t weilinli .
#   docker run -e JWT_SECRET=... -e DATABASE_URL=postgresql+asyncpg://... -p 8000:8000 weilinli
# With no arguments the container runs `weilinli migrate`, then uvicorn (see docker/entrypoint.sh).
# With arguments it runs them instead, e.g. `docker run ... weilinli weilinli create-admin ...`.

# ---- build: the weilinli wheel plus wheels of all its dependencies -------------------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /build
# pyproject.toml names README.md as the long description, so the build needs it.
COPY pyproject.toml README.md constraints.txt ./
COPY app ./app
# constraints.txt: the exact versions the tests passed on (README, "Dependencies").
RUN pip wheel --wheel-dir /wheels -c constraints.txt .

# ---- runtime: only the installed wheels -------------------------------------------------------------------
FROM python:3.11-slim AS runtime
# JWT_SECRET_FILE is a path (used only outside production), not a secret.
# hadolint ignore=DL3064
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    WEILINLI_ENV=production \
    WEB_CONCURRENCY=1 \
    DATABASE_URL=sqlite+aiosqlite:////srv/weilinli/data/weilinli.db \
    UPLOAD_DIR=/srv/weilinli/uploads \
    JWT_SECRET_FILE=/srv/weilinli/data/jwt_secret

RUN groupadd --system --gid 10001 weilinli \
 && useradd --system --uid 10001 --gid weilinli --home-dir /srv/weilinli --no-create-home \
        --shell /usr/sbin/nologin weilinli

# The wheels are bind-mounted from the build stage, so they never become a layer of this image.
# Versions are pinned by the wheels built above (--no-index: nothing else can be installed).
# hadolint ignore=DL3013
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels weilinli

WORKDIR /srv/weilinli
# The migrations ship inside the wheel (app/migrations): nothing else to copy.
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/weilinli-entrypoint
# Code (and its migrations) stay root-owned (read-only for the app); only data/ and uploads/ are writable.
RUN mkdir -p /srv/weilinli/data /srv/weilinli/uploads \
 && chown weilinli:weilinli /srv/weilinli/data /srv/weilinli/uploads

# Numeric, so runAsNonRoot-style checks can verify it.
USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4); sys.exit(0 if r.status == 200 else 1)"]

ENTRYPOINT ["weilinli-entrypoint"]
