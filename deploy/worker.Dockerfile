# The generic command worker: `gaffer worker` plus whatever the job type's command needs. Build
# your own image FROM it and add your program; it knows only gaffer's address, a worker token and
# the broker's address (never the store's credentials):
#   gaffer --url $GAFFER_URL worker --type T [--broker URL]   (token in $GAFFER_WORKER_TOKEN)
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY src ./src
COPY bin ./bin
USER node
ENTRYPOINT ["node", "--max-semi-space-size=16", "src/cli/main.ts"]
CMD ["worker", "--help"]
