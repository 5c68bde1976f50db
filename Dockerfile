# ltiservice: production image (gunicorn, non-root). Settings come from LTISERVICE_* variables;
# keys and uploaded files live on volumes, never in the image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    LTISERVICE_ENV=production LTISERVICE_INSTANCE_PATH=/var/lib/ltiservice

RUN useradd --system --create-home --home-dir /home/ltiservice ltiservice \
 && mkdir -p /var/lib/ltiservice && chown ltiservice /var/lib/ltiservice

WORKDIR /app
COPY pyproject.toml README.md ./
COPY ltiservice ltiservice
COPY xapi xapi
COPY plugins plugins
RUN pip install . plugins/crca plugins/courtage plugins/mutualite

USER ltiservice
VOLUME ["/var/lib/ltiservice"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"

# Migrations run once per deployment: `docker run … ltiservice db upgrade`.
# Threaded workers and an access log without query strings: ltiservice/gunicorn_conf.py.
# Behind one reverse proxy (docs/security.md), whose X-Forwarded-* headers are trusted.
CMD ["gunicorn", "--config", "python:ltiservice.gunicorn_conf", "--workers", "4", \
     "--bind", "0.0.0.0:8000", "--forwarded-allow-ips", "*", "ltiservice.wsgi:app"]
