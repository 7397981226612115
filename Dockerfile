# One image for the API and the worker (the command picks which). Untested
# here: these machines have no Docker engine.
FROM node:20-bookworm-slim
WORKDIR /app
ENV SKIP_TEMPORAL_TOOLS=1 NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
CMD ["npx", "tsx", "api/server.ts"]
