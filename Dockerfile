# Impact Bot: `docker build -t impact-bot .` then
#   docker run --env-file .env -p 3000:3000 -v impactbot-data:/data impact-bot
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_URL=sqlite:////data/impactbot.db \
    PORT=3000

RUN groupadd --system impactbot && useradd --system --gid impactbot --home /app impactbot \
    && mkdir -p /data && chown impactbot:impactbot /data

WORKDIR /app

# Dependencies first, in their own layer: rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN mkdir -p bot handlers storage && touch bot/__init__.py handlers/__init__.py storage/__init__.py \
    && pip install '.[postgres,chart]' && pip uninstall -y impact-bot

# Then the code.
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY examples ./examples
COPY manifest.yml ./
RUN pip install --no-deps . && chown -R impactbot:impactbot /app

USER impactbot
VOLUME ["/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"3000\")}/healthz', timeout=4)" || exit 1

CMD ["impactbot", "run"]
