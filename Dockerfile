# Hourbridge: one image for `serve` and `worker`. Sources are TypeScript run through tsx (no build step).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOURBRIDGE_LOG_LEVEL=info
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY connectors ./connectors
# Configuration is mounted at /app/config (see docker-compose.yml); secrets come from the environment.
RUN mkdir -p /app/config /app/out && chown -R node:node /app/out
USER node
EXPOSE 8080
# Liveness without curl in the slim image: Node's fetch against /health.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/hourbridge.js"]
CMD ["serve", "--config", "/app/config"]
