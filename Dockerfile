# okrbot: the production process (`okrbot serve`) on port 3000.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# time zones for members' local check-in times (slim images have no zone database)
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/*

# Build the wheel in a stage of its own; the image gets the installed package, not a source tree
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY storage ./storage
COPY scheduler ./scheduler
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM base
COPY --from=build /src/constraints.txt /tmp/constraints.txt
COPY --from=build /wheels /wheels
# the Teams app template, the demo OKRs and the migrations are package data of the wheel
RUN pip install -c /tmp/constraints.txt /wheels/okrbot-*.whl && rm -rf /wheels /tmp/constraints.txt

RUN useradd --create-home --uid 10001 okrbot \
    && mkdir -p /data \
    && chown okrbot:okrbot /data
USER okrbot
WORKDIR /data

# SQLite in the /data volume unless DATABASE_URL points at PostgreSQL
ENV DATABASE_URL=sqlite:////data/okrbot.db
VOLUME ["/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status == 200 else 1)"]

CMD ["okrbot", "serve", "--host", "0.0.0.0", "--port", "3000"]
