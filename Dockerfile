# The translator as one small image: node, the bundle and the generated API documents.
#
# Build on the host first (`npm ci` runs the build; else `npm run build`): codegen reads the
# upstream OpenAPI document from ../shared, outside this build context, and the build
# container would need the npm registry, which a build here cannot reach. What the image gets
# is exactly what the tests ran.
#
#   scripts/make-node-base.sh                     # k2d-node-base:local, no registry needed
#   DOCKER_BUILDKIT=0 docker build -t k2d:local .
#   docker run -d -v /var/run/docker.sock:/var/run/docker.sock -v k2d-data:/var/lib/k2d \
#     -p 127.0.0.1:6443:6443 k2d:local
#   (kubeconfig: /var/lib/k2d/kubeconfig in the volume)
#
# BASE_IMAGE can be any image with node >= 20 on its PATH (an official node image elsewhere).
ARG BASE_IMAGE=k2d-node-base:local

FROM ${BASE_IMAGE} AS build
WORKDIR /app
COPY generated/ generated/
COPY dist/ dist/
COPY scripts/image-check.mjs /check.mjs
RUN ["node", "--check", "/app/dist/k2d.js"]
RUN ["node", "/check.mjs", "/app"]

FROM ${BASE_IMAGE}
COPY --from=build /app /app
# Root: the engine socket is root's. The server handles SIGTERM itself (node runs as PID 1).
ENV NODE_ENV=production \
    K2D_DATA_DIR=/var/lib/k2d \
    K2D_PORT=6443 \
    K2D_ADDRESS=0.0.0.0
VOLUME ["/var/lib/k2d"]
EXPOSE 6443
# Lite mode (no optimising compiler) saves ~10 MB idle and ~50 MB under load; latency is unchanged
# at this server's request rates (npm run bench).
ENTRYPOINT ["node", "--lite-mode", "--no-expose-wasm", "/app/dist/k2d.js"]
