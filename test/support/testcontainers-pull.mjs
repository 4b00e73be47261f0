// Pulls one image with the real testcontainers package, as a test's child process with exactly the environment it
// was given (DOCKER_HOST at the fake Engine, DOCKER_CONFIG, PATH with or without the helper). Prints one JSON line:
// {"ok":true} or {"ok":false,"error":"..."}; the Engine records what credentials arrived.
// Usage: node testcontainers-pull.mjs IMAGE
import { getContainerRuntimeClient, ImageName } from 'testcontainers';

const image = process.argv[2];
if (!image) {
  console.error('usage: node testcontainers-pull.mjs IMAGE');
  process.exit(2);
}
try {
  const client = await getContainerRuntimeClient();
  await client.image.pull(ImageName.fromString(image));
  console.log(JSON.stringify({ ok: true }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: error instanceof Error ? error.message : String(error) }));
}
