# okrbot: the production process (`okrbot serve`) on port 3000.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# time zones for members' local check-in times (slim images have no zone database)
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY storage ./storage
COPY scheduler ./scheduler
COPY teams ./teams
# editable: the Teams app template (teams/) is read from the source tree
RUN pip install -c constraints.txt -e .

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
