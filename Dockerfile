# ShopSwift's production image: gunicorn serving the store as a non-root user.
#   docker build -t shopswift .
# docker-compose.yml runs it with PostgreSQL, Redis, Celery and nginx.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 shopswift \
    && useradd --system --uid 10001 --gid shopswift --home-dir /app \
        --no-create-home --shell /usr/sbin/nologin shopswift

WORKDIR /app

# Dependencies first: this layer is rebuilt only when the pins change.
COPY requirements/base.txt requirements/base.txt
RUN pip install -r requirements/base.txt

# The code belongs to root and is read-only for the user that runs it.
COPY . .

# Collect the static files into the image (hashed, compressed). The secret
# only satisfies production mode's start-up checks during this command and is
# not kept in the image.
RUN DJANGO_DEBUG=false \
    DJANGO_SECRET_KEY=build-time-only-collectstatic-key-never-used-to-serve-0123456789 \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --no-input --verbosity 0 \
    && mkdir -p /app/media \
    && chown -R shopswift:shopswift /app/staticfiles /app/media

USER shopswift

EXPOSE 8000

# /healthz answers without touching the database or the cache. Host
# "localhost" must be in DJANGO_ALLOWED_HOSTS (docker-compose.yml adds it).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/healthz', timeout=4)"]

CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py"]
