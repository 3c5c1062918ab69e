FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 OPSPORTAL_DATA_DIR=/data BIND_HOST=0.0.0.0
WORKDIR /app
COPY pyproject.toml ./
COPY opsportal ./opsportal
COPY incidents ./incidents
COPY runbooks ./runbooks
RUN pip install --no-cache-dir .
COPY . .
RUN mkdir -p /data && SECRET_KEY=build python manage.py collectstatic --noinput -v0
EXPOSE 8000
CMD ["bin/serve", "web"]
