#!/bin/sh
# Lifecycle hook of the registry-login Feature (postCreateCommand, postStartCommand, postAttachCommand; $1
# names which). Runs as the remote user, so the logins land in that user's docker config. A failure is a
# warning, so a bad secret never blocks the container, unless the Feature's failOnError option was set.
hook=${1:-lifecycle}
# An attach may come from a tool that does not deliver the secrets (VS Code attaching to a container the CLI
# made with --secrets-file): there an environment without registry variables keeps the logins.
mode=--hook
if [ "$hook" = postAttachCommand ]; then
    mode="--hook --attach"
fi
fail_on_error=false
if grep -qx 'FAIL_ON_ERROR=true' /usr/local/share/registry-login/feature.env 2>/dev/null; then
    fail_on_error=true
fi

if [ "$fail_on_error" = true ]; then
    # shellcheck disable=SC2086 # $mode is one or two flags
    exec /usr/local/bin/registry-login refresh $mode --strict
fi

# shellcheck disable=SC2086
/usr/local/bin/registry-login refresh $mode || {
    echo "registry-login ($hook): the agent did not run (exit $?); docker logins were not refreshed. Run 'registry-login refresh' in a terminal to see why." >&2
}
exit 0
