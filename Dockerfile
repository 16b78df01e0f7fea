FROM python:3.11-slim
WORKDIR /app
# Exact versions with their PyPI hashes (requirements/runtime.lock, ADR 0025), then the project
# itself without resolving anything.
COPY requirements/runtime.lock requirements/
RUN pip install --no-cache-dir --require-hashes -r requirements/runtime.lock
COPY . .
RUN pip install --no-cache-dir --no-deps . && PITBOSS_DEV=1 python manage.py collectstatic --noinput
EXPOSE 8000
