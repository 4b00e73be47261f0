#!/bin/bash
# Runs inside the dev container, as its non-root remote user, after `devcontainer features test` has
# created it with the registry-login Feature. REGISTRY_ADDRESS, IMAGE and EXPECTED_REPO_DIGEST come from the test's remoteEnv.
set -e

# shellcheck disable=SC1091
source dev-container-features-test-lib

config="$HOME/.docker/config.json"

check "runs as the non-root remote user" test "$(id -un)" = vscode
check "the login is in the remote user's docker config" test -f "$config"
check "the config belongs to the remote user, mode 0600" test "$(stat -c '%U %a' "$config")" = "vscode 600"
check "the docker config dir belongs to the remote user" test "$(stat -c '%U' "$HOME/.docker")" = vscode
# Compares the written credentials with the secrets in the environment, without printing either.
check "auths and credHelpers hold the registry's login" node -e '
  const config = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const key = process.env.REGISTRY_ADDRESS;
  const expected = Buffer.from(process.env.FEATURETEST_CONTAINER_REGISTRY_USER + ":" + process.env.FEATURETEST_CONTAINER_REGISTRY_PASSWORD).toString("base64");
  process.exit(config.auths?.[key]?.auth === expected && config.credHelpers?.[key] === "registry-login" ? 0 : 1);
' "$config"
check "the user's postCreateCommand already saw the login (Codespaces timing)" grep -qx 'login present' "$HOME/user-post-create.txt"
check "registry-login status reports the registry" sh -c 'registry-login status | grep -F "$REGISTRY_ADDRESS"'

# The real client: the docker CLI in the container, talking to the test's dockerd through the
# bind-mounted socket; the daemon pulls from the registry with the credentials the CLI resolved
# from this user's config (credHelpers -> docker-credential-registry-login).
check "without the login, docker pull is refused as unauthorized" sh -c '
  out=$(DOCKER_CONFIG=$(mktemp -d) docker pull "$REGISTRY_ADDRESS/$IMAGE" 2>&1) && exit 1
  echo "$out" | grep -Eqi "unauthorized|no basic auth credentials"'
check "with the login, docker pull succeeds" docker pull "$REGISTRY_ADDRESS/$IMAGE"
check "the pulled image is the pushed one" test "$(docker image inspect --format '{{index .RepoDigests 0}}' "$REGISTRY_ADDRESS/$IMAGE")" = "$EXPECTED_REPO_DIGEST"

reportResults
