// Process entry point for both launchers: the CLI, or the docker credential helper when the helper launcher says so.
import { runCli, runCredentialHelper } from './cli.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<number> {
  const io = { env: process.env, stdout: (t: string) => process.stdout.write(t), stderr: (t: string) => process.stderr.write(t), isTty: process.stdout.isTTY === true };
  if (process.env.REGISTRY_LOGIN_MODE === 'credential-helper') {
    delete process.env.REGISTRY_LOGIN_MODE;
    return runCredentialHelper(process.argv.slice(2), io, readStdin);
  }
  return runCli(process.argv.slice(2), io);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`registry-login: unexpected failure: ${(error as Error)?.message ?? String(error)}\n`);
    process.exitCode = 2;
  },
);
