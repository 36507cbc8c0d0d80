FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ENV KESTREL__REPLAY__DATA_DIR=/shared/data/kalshi-gold15m-ws
CMD ["node", "bin/kestrel.js", "up", "--no-job"]
