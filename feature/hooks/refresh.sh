#!/bin/sh
# Lifecycle hook of the registry-login Feature (postCreateCommand and postStartCommand; $1 names which).
# Runs as the remote user, so the logins land in that user's docker config. A failure is a warning,
# so a bad secret never blocks the container, unless the Feature's failOnError option was set.
hook=${1:-lifecycle}
fail_on_error=false
if grep -qx 'FAIL_ON_ERROR=true' /usr/local/share/registry-login/feature.env 2>/dev/null; then
    fail_on_error=true
fi

if [ "$fail_on_error" = true ]; then
    exec /usr/local/bin/registry-login refresh --hook --strict
fi

/usr/local/bin/registry-login refresh --hook || {
    echo "registry-login ($hook): the agent did not run (exit $?); docker logins were not refreshed. Run 'registry-login refresh' in a terminal to see why." >&2
}
exit 0
