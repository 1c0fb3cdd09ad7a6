FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app
RUN pip install --no-cache-dir uv==0.13.9
COPY requirements.txt .
RUN uv pip install --system --no-cache -r requirements.txt

COPY . .
# collectstatic needs settings to load; none of these values is used at run time.
RUN DJANGO_SECRET_KEY=collectstatic DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost \
    PARLEY_PUBLIC_URL=https://build.invalid python manage.py collectstatic --noinput

# The exports folder (PARLEY_EXPORT_DIR's default) exists in the image, so that a volume mounted there
# starts out owned by parley.
RUN useradd --create-home parley && mkdir -p /app/.data/exports && chown -R parley /app
USER parley
EXPOSE 8000
# Frames are small JSON: compressing each costs more CPU than it saves bytes.
# --no-proxy-headers: X-Forwarded-For is believed only from PARLEY_TRUSTED_PROXIES, by config/edge.py;
# uvicorn's own reading would trust whoever it is told to ("*" let anyone pick their address).
# --no-access-log: uvicorn's lines carry query strings (handoff tokens) and token paths (invitations,
# password resets); config/edge.py writes the access log without them (logger parley.access).
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--no-proxy-headers", \
     "--no-access-log", "--ws-max-size", "65536", "--ws-per-message-deflate", "false"]
