# garden-api: migrates, ingests the content it is given, and serves, as a non-root user.
# Build:  docker build -t garden-api .
# Run:    docker run -p 8000:8000 garden-api
#         docker run -p 8000:8000 -v "$PWD/my-content:/srv/garden/content:ro" garden-api
#
# Two stages: the first builds the project's wheel (the code, with its migrations inside the package as
# app.migrations); the second installs that wheel and its dependencies, as any user of the package would. No
# source tree and no editable install reach the final image: only the installed package and content/.

FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .


FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GARDEN_DATABASE_URL=sqlite:////srv/garden/data/garden.db \
    GARDEN_CONTENT_DIR=/srv/garden/content

WORKDIR /srv/garden

RUN groupadd --system --gid 10001 garden && useradd --system --uid 10001 --gid garden --home-dir /srv/garden --shell /usr/sbin/nologin garden

COPY --from=build /wheels /tmp/wheels
RUN pip install --no-cache-dir /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels \
    && mkdir -p /srv/garden/data \
    && chown garden:garden /srv/garden/data

COPY content ./content

USER 10001:10001
EXPOSE 8000
VOLUME ["/srv/garden/data"]

HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]

# Every start re-ingests the content it is given: unchanged files cost a fingerprint check and write nothing.
CMD ["sh", "-c", "garden migrate && garden ingest \"$GARDEN_CONTENT_DIR\" && exec garden serve --host 0.0.0.0 --port 8000 --workers \"${GARDEN_WORKERS:-2}\""]
