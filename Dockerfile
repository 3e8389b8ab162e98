# Firewatch container image. Build: docker build -t firewatch .   (docker-compose.yml builds it too)
FROM node:22-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 ships prebuilt binaries for this platform; the toolchain is the fallback.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY . .
# npm ci also runs "prepare" (the TypeScript build); build explicitly so the step is visible.
RUN npm ci && npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    DATA_DIR=/var/lib/firewatch \
    MQTT_PORT=1883 \
    HTTP_PORT=8080
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# the duty console's static files (served at /)
COPY --from=build /app/dashboards ./dashboards
RUN mkdir -p /var/lib/firewatch && chown node:node /var/lib/firewatch
USER node
VOLUME ["/var/lib/firewatch"]
EXPOSE 1883 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--max-semi-space-size=64", "dist/bin/firewatch.js", "serve"]
