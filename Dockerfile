# syntax=docker/dockerfile:1
# Aegent Quest as a container image: docs/deploy.md.
#
#   docker build -t aegent-quest .                                # the game, PostgreSQL driver
#   docker build --build-arg EXTRAS=postgres,agents -t aegent-quest .   # + LLM agents, memory
#
# The build stage makes the wheel as a user would (`python -m build`: the sdist, then the
# wheel from it, with the starter world packed in as server/starter/) and installs it
# into a virtualenv; the runtime stage gets only that virtualenv. No `aegent init` is
# needed: the installed package serves its starter world (server/config.py,
# default_content_dir). tests/package/test_compose.py checks this file.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
RUN pip install "build>=1.2,<2"
WORKDIR /src
# What the sdist needs: pyproject.toml's readme and license-files, MANIFEST.in's
# includes, setup.py (it copies content/ into the wheel), and the packages.
COPY pyproject.toml setup.py MANIFEST.in README.md LICENSE CHANGELOG.md ./
COPY server/ server/
COPY world/ world/
COPY agents/ agents/
COPY content/ content/
RUN python -m build --outdir /dist .
# Extras (pyproject.toml): postgres is the psycopg driver for DATABASE_URL; agents adds
# the LLM agent runtime and its memory, and then the MiniLM model that memory embeds with,
# by the same documented command a user runs. EXTRAS= (empty): the plain install, SQLite.
ARG EXTRAS=postgres
RUN python -m venv /opt/aegent \
 && /opt/aegent/bin/pip install "$(ls /dist/*.whl)${EXTRAS:+[${EXTRAS}]}" \
 && case ",${EXTRAS}," in *,agents,*) /opt/aegent/bin/aegent agents install-model --quiet ;; esac

FROM python:${PYTHON_VERSION}-slim
LABEL org.opencontainers.image.title="Aegent Quest" \
      org.opencontainers.image.description="A real-time MUD where people and LLM agents play side by side" \
      org.opencontainers.image.licenses="MIT"
# A system user of its own, not root: it owns only /data.
RUN groupadd --system --gid 10001 aegent \
 && useradd --system --uid 10001 --gid aegent --home-dir /srv/aegent --create-home \
      --shell /usr/sbin/nologin aegent \
 && mkdir /data && chown aegent:aegent /data
COPY --from=build /opt/aegent /opt/aegent
# Settings (docs/configuration.md): listen on every interface of the container; the
# database (SQLite unless DATABASE_URL), the journal and the agents' local memory go to
# the /data volume. Mount a game folder from `aegent init` at /srv/aegent to serve its
# content/ and read its aegent.toml (environment variables still win over it).
ENV PATH=/opt/aegent/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    AEGENT_HOST=0.0.0.0 \
    AEGENT_DATA_DIR=/data
USER aegent
WORKDIR /srv/aegent
VOLUME /data
# HTTP and WebSocket (/, /ws, /health, /metrics); telnet.
EXPOSE 4000 4001
# /health answers {"ok": true, ...} while the server runs (false once it is stopping).
# No curl in the slim image: the standard library's urllib. AEGENT_PORT, if set, moves it.
# The same check fits `aegent gateway` (ok while its world host answers it); `aegent
# world` listens on no port, so compose.yaml gives that service `aegent ping` instead.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import json, os, urllib.request as u; r = u.urlopen('http://127.0.0.1:%s/health' % os.environ.get('AEGENT_PORT', '4000'), timeout=4); raise SystemExit(0 if json.load(r)['ok'] else 1)"]
# SIGTERM (docker stop) saves every character and stops; an admin's `reboot` exits 75,
# which a restart policy (compose.yaml: on-failure) starts again. The whole game in one
# process, for the image alone; compose.yaml runs `aegent world` and `aegent gateway`.
STOPSIGNAL SIGTERM
CMD ["aegent", "serve"]
