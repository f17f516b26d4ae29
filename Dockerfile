# syntax=docker/dockerfile:1
# centrifugo-policy-proxy image. Two stages: the first compiles TypeScript with the development
# dependencies, the second holds only what `serve` needs (dist/ and production dependencies),
# so the image carries no compiler, no tsx and no test tooling.
# Build: docker build -t centrifugo-policy-proxy:0.1.0 .   (the tag is package.json's version)

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS runtime
# Kept equal to package.json's version by test/unit/deploy-files.test.ts.
LABEL org.opencontainers.image.title="centrifugo-policy-proxy" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="MIT"
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY proto ./proto
COPY config ./config
COPY policies ./policies
# The image's own user (uid 1000, from the node image); nothing under /app needs writing.
USER node
EXPOSE 3000 50051
# serve drains on SIGTERM (server.drain_timeout, 10 s by default): keep the orchestrator's grace
# period above that (docker stop -t 15, Kubernetes terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
# Slim images have no curl; node's fetch does the probe. HTTP_PORT is what config/default.yaml reads.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/centrifugo-policy-proxy.js"]
CMD ["serve"]
