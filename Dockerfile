FROM python:3.11-slim
# An unprivileged user owns nothing but its home (the Faust data directory lives there).
RUN useradd --system --create-home --uid 10001 --user-group aion
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir .
USER aion:aion
ENTRYPOINT []
