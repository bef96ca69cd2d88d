# syntax=docker/dockerfile:1
# watcher: the daemon (`watcher serve`) as a container.
#
#   docker build -t watcher .
#   docker run -e WATCHER_API_TOKEN=... -p 8080:8080 \
#     -v watcher-data:/var/lib/watcher -v ./config.toml:/etc/watcher/config.toml:ro watcher
#
# Volumes: /var/lib/watcher (the SQLite database, unless WATCHER_DATABASE_URL points at
# PostgreSQL) and /etc/watcher/config.toml (WATCHER_CONFIG; the shipped config.toml is the
# default). The API listens on 0.0.0.0:8080, so it refuses to start without an API token
# (WATCHER_API_TOKEN, or [http] token_file). Stop with a grace period of 30 s or more
# (docker stop -t 30; compose sets stop_grace_period) so a running poll can finish.

# python:3.11-slim pinned to its Debian release, so the ICU runtime package name is known
# (bookworm: libicu72; trixie would need libicu76). Builder and runtime must match.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: compilers and ICU headers (pyicu has no wheels), the pinned dependencies ---
FROM ${PYTHON_IMAGE} AS builder
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libicu-dev pkg-config g++ \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /src
# The lock first: this layer is rebuilt only when the pins change (CI tests the same lock).
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY pyproject.toml README.md ./
COPY watcher ./watcher
COPY migrations ./migrations
RUN pip install --no-deps .

# --- runtime: the virtualenv and the ICU runtime library only ---
FROM ${PYTHON_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libicu72 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/watcher --no-create-home watcher \
    && mkdir -p /var/lib/watcher /etc/watcher \
    && chown watcher:watcher /var/lib/watcher
COPY --from=builder /opt/venv /opt/venv
COPY config.toml /etc/watcher/config.toml
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    WATCHER_CONFIG=/etc/watcher/config.toml \
    WATCHER_DATABASE_URL=sqlite:////var/lib/watcher/watcher.db \
    WATCHER_HTTP_PORT=8080
VOLUME ["/var/lib/watcher"]
WORKDIR /var/lib/watcher
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('WATCHER_HTTP_PORT', '8080'), timeout=4)"]
ENTRYPOINT ["watcher"]
CMD ["serve", "--host", "0.0.0.0"]
