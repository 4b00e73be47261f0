#!/usr/bin/env bash
# Installs the Debian packages that the demo, the tests or the benchmarks use (as root), or says exactly which are missing.
set -euo pipefail
mode=${1:-test}
case "$mode" in
  demo)  wanted="docker-registry:docker-registry htpasswd:apache2-utils skopeo:skopeo openssl:openssl" ;;
  test)  wanted="docker-registry:docker-registry htpasswd:apache2-utils skopeo:skopeo openssl:openssl tinyproxy:tinyproxy dockerd:docker.io debootstrap:debootstrap unshare:util-linux script:bsdutils mkfifo:coreutils pass:pass gpg:gnupg dpkg-deb:dpkg strace:strace podman:podman buildah:buildah newuidmap:uidmap fuse-overlayfs:fuse-overlayfs slirp4netns:slirp4netns ip:iproute2 /usr/lib/python3/dist-packages/docker:python3-docker" ;;
  bench) wanted="docker-registry:docker-registry htpasswd:apache2-utils skopeo:skopeo openssl:openssl /usr/bin/aws:awscli /usr/bin/time:time" ;;
  *) echo "usage: $0 [demo|test|bench]" >&2; exit 2 ;;
esac
missing=()
for pair in $wanted; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  # A command given as an absolute path must be that very file (e.g. Debian's awscli, not another aws on PATH).
  case "$cmd" in
    /*) [ -x "$cmd" ] || missing+=("$pkg") ;;
    *) if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ] && [ ! -x "/usr/bin/$cmd" ] && [ ! -x "/sbin/$cmd" ]; then missing+=("$pkg"); fi ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "registry-login $mode needs these Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages for the $mode: ${missing[*]}" >&2
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
