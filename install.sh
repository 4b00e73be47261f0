#!/bin/sh
# Installs the registry-login agent into a dev container image. Dev container tools run this as root
# while building the image, with the Feature's options as upper-cased environment variables.
# POSIX sh on purpose: Alpine images have no bash.
set -e

NODE_BINARY="${NODEBINARY:-}"
FAIL_ON_ERROR="${FAILONERROR:-false}"

MIN_NODE_MAJOR=20
SHARE_DIR=/usr/local/share/registry-login
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

if [ -z "$node" ]; then
    if [ "$os_family" = alpine ]; then
        # The Node.js Feature does not support Alpine; its own packages do (Alpine 3.19+ has Node.js 20).
        fix="Fix: install it in the image's Dockerfile:

    RUN apk add --no-cache nodejs"
    else
        fix="Fix: add the Node.js Feature to \"features\" in devcontainer.json (it installs before this one):

    \"ghcr.io/devcontainers/features/node:1\": { \"version\": \"lts\" },"
    fi
    die "this Feature needs Node.js $MIN_NODE_MAJOR or later in the image, and found none." \
        "Looked on PATH and in /usr/local/share/nvm/current/bin, /usr/local/bin, /usr/bin, /opt/*/bin, /usr/local/lib/nodejs/*/bin." \
        "${rejected:+Rejected:
$rejected}$fix" \
        "" \
        "or set this Feature's \"nodeBinary\" option to the absolute path of a Node.js $MIN_NODE_MAJOR+ executable the image has."
fi

# $1 as one single-quoted shell word, whatever it holds: the generated scripts never expand it.
shell_quote() {
    printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}
node_quoted=$(shell_quote "$node")

say "installing for $os_family on $arch with Node.js $node_version at $node"

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
