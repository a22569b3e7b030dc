# The Sealpost gateway image (docker-compose.yml builds it for its setup step
# and its five gateways): Node 24 running the TypeScript sources by type
# stripping, as `npx sealpost` does; production dependencies only (solc
# included: the setup step compiles and deploys the contracts). Data lives
# in /devnet, a volume; the process runs as the unprivileged user "node".
FROM node:24-bookworm-slim

WORKDIR /opt/sealpost
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY bin ./bin
COPY contracts ./contracts
COPY src ./src

# A named volume mounted here starts with this owner, so "node" can write it.
RUN mkdir -p /devnet && chown node:node /devnet
USER node
VOLUME ["/devnet"]

# A small young generation frees sent message buffers sooner (bin/sealpost.js does the same for start).
ENTRYPOINT ["node", "--max-semi-space-size=2", "/opt/sealpost/src/cli/main.ts"]
CMD ["--help"]
