# Wattcast: one image, three commands (README "Containers").
#
#   API instance (the default):  deno run … main.ts --api-only     = deno task start
#   training worker:             deno run … worker/main.ts         = deno task worker
#   REST gateway:                deno run … src/gateway/main.ts    = deno task gateway
#
# The commands are `deno task`'s, spelled out: `deno task` does not always pass SIGTERM on to
# the process it starts (Deno 2.9.6, started from a non-interactive shell: it exits with 143 and
# leaves the service running), and the graceful stop (streams handed over, jobs handed back)
# needs the signal. tests/container_commands_test.ts checks they stay deno.json's tasks.
FROM denoland/deno:2.9.6

WORKDIR /app
# The sources stay root's (read-only to the service); it writes only its data directory.
RUN mkdir -p /app/data && chown deno:deno /app/data
USER deno

# Dependencies first, from the lockfile alone: this layer changes only with deno.lock.
COPY deno.json deno.lock ./
RUN deno install --frozen

COPY . .
# Everything the three entry points import, so that nothing is fetched at run time.
RUN deno install --frozen --entrypoint main.ts worker/main.ts src/gateway/main.ts

ENV HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/app/data \
    DENO_NO_UPDATE_CHECK=1
EXPOSE 8000

# No curl in the image: Deno itself asks /health (200 when every dependency answers).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch('http://127.0.0.1:' + (Deno.env.get('PORT') ?? '8000') + '/health'); Deno.exit(r.ok ? 0 : 1)"]

CMD ["deno", "run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "--allow-sys", "main.ts", "--api-only"]
