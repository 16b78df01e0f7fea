FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml ./
COPY . .
RUN pip install --no-cache-dir . && PITBOSS_DEV=1 python manage.py collectstatic --noinput
EXPOSE 8000
