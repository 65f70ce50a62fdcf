# syntax=docker/dockerfile:1
# The app's production image: `addon serve` by default; `addon worker` and `addon migrate` as
# alternative commands (see compose.yaml and docs/deploy.md). Written, not built, on the
# project's machines (no base image can be pulled there): the test suite runs the same steps
# (tests/test_production_install.py: wheel, fresh virtual environment, migrate, serve, worker,
# /readyz, /metrics, a signed webhook).

ARG PYTHON_VERSION=3.11

# --- build: the app's wheel and the wheels of its production dependencies (no dev extras) -----
FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY pyproject.toml README.md manifest.json ./
COPY addon ./addon
# Data files of the wheel (installed under /opt/venv/share/saleor-mailchimp-addon, where
# addon/paths.py finds them).
COPY webhooks ./webhooks
COPY settings_ui ./settings_ui
RUN python -m pip wheel --no-cache-dir --wheel-dir /wheels .

# --- runtime --------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim
ARG PYTHON_VERSION
# PROMETHEUS_MULTIPROC_DIR: every process's metrics, in files named by host name and pid
# (addon/metrics.py), as each container runs `addon` as PID 1; `addon` refuses to start when
# the directory is missing or not writable by `app`.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    APP_ENV=production \
    LOG_FORMAT=json \
    PROMETHEUS_MULTIPROC_DIR=/run/addon-metrics
RUN python -m venv /opt/venv \
    && useradd --system --uid 10001 --user-group --home-dir /app --create-home app \
    && mkdir -p /run/addon-metrics && chown app:app /run/addon-metrics
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels saleor-mailchimp-addon \
    && rm -rf /wheels

USER app
WORKDIR /app
EXPOSE 8000
# /readyz: the database answers and its schema is current (the web service; compose turns the
# check off for the worker and migrate services, which serve no HTTP).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
ENTRYPOINT ["addon"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
