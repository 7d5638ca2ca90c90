# lbc's image: the controller (`run`), the bare-metal speaker (`speaker`) and the other
# commands of dist/cli/main.js. Built in three stages so the runtime stage holds only
# what runs: the compiled JavaScript, the production dependencies and the speaker's
# packet-socket addon — no TypeScript, no dev dependencies, no compiler.
#
#   docker build -t lbc:0.1.0 .

# Compiles src/ to dist/ (dev dependencies: TypeScript) and the addon (a C toolchain;
# the official node image ships the headers node-gyp needs, so nothing is downloaded).
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY native ./native
RUN npm run build && npm run build:native

# Production dependencies only, installed on their own so that nothing of the build
# stage's node_modules comes along.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# Fewer malloc arenas than glibc's 8 per core: freed memory spread over many arenas stays
# in RSS (src/install/workloads.ts CONTROLLER_MALLOC_ARENA_MAX has the measurement).
ENV MALLOC_ARENA_MAX=2
WORKDIR /app
# package.json carries "type": "module", without which node cannot load dist/ as ESM.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Where packet-socket.ts looks for it: four levels above dist/providers/metal/speaker.
COPY --from=build /app/native/packet/build/Release/packet.node ./native/packet/build/Release/packet.node
# Numeric, so kubelet can verify runAsNonRoot; the manifests run the controller as this
# user, and the speaker as root with only CAP_NET_RAW.
USER 65532:65532
ENTRYPOINT ["node", "dist/cli/main.js"]
