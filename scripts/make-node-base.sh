#!/usr/bin/env bash
# Builds a node base image without a registry: FROM scratch with this machine's own node binary,
# the shared libraries it links (ldd) and a minimal /etc. No shell and no npm: the Dockerfile's
# stages need only node. Skipped when the image already holds the same node version.
#   scripts/make-node-base.sh [TAG]      (default k2d-node-base:local)
set -euo pipefail
tag=${1:-k2d-node-base:local}
node_bin=$(readlink -f "$(command -v node)")
version=$("$node_bin" --version)

have=$(docker image inspect -f '{{index .Config.Labels "k2d.node-version"}}' "$tag" 2>/dev/null || true)
if [[ $have == "$version" ]]; then
  echo "node base: $tag ($version) present"
  exit 0
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
root=$ctx/rootfs
mkdir -p "$root/usr/local/bin" "$root/etc" "$root/tmp"
chmod 1777 "$root/tmp"
cp "$node_bin" "$root/usr/local/bin/node"
# Resolved files at the paths the loader looks for (the interpreter path is baked into node).
while read -r lib; do
  cp -L --parents "$lib" "$root/"
done < <(ldd "$node_bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin
LABEL k2d.test=1 k2d.node-version=$version
CMD ["node"]
DOCKERFILE
# The legacy builder: this engine has no BuildKit and the client no buildx.
DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx" >"$ctx/build.log" 2>&1 \
  || { cat "$ctx/build.log" >&2; echo "node base: docker build failed" >&2; exit 1; }
docker run --rm --label k2d.test=1 "$tag" node -e 'if (process.version !== process.argv[1]) process.exit(1)' "$version" \
  || { echo "node base: $tag does not run node $version" >&2; exit 1; }
echo "node base: $tag ($version) built, $(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%d MB", $1/1e6}')"
