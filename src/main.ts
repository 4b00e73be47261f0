// Process entry point for both launchers: the docker credential helper when run by that name (docker runs
// docker-credential-registry-login), else the CLI.
import { fstatSync, readSync, statSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { runCli, runCredentialHelper } from './cli.js';

// Writing to the descriptors directly skips creating process.stdout/stderr streams (node:stream, ~3 ms of start-up).
function writer(fd: number): (text: string) => void {
  return (text) => {
    const bytes = Buffer.from(text, 'utf8');
    let written = 0;
    let waits = 0;
    while (written < bytes.length) {
      try {
        written += writeSync(fd, bytes, written);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // A non-blocking pipe that is full: wait a moment for the reader (bounded), then give up on the rest.
        if (code === 'EAGAIN' && waits++ < 5000) {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
          continue;
        }
        return; // EPIPE and friends: the reader is gone, nothing to tell it
      }
    }
  };
}

// node:tty pulls in node:net (~3 ms): it is asked only about a character device other than /dev/null, where output
// thrown away goes (`>/dev/null`, a parent's "ignore"), so only a run on a terminal pays for it.
function isTerminal(fd: number): boolean {
  try {
    const info = fstatSync(fd);
    if (!info.isCharacterDevice() || info.rdev === statSync('/dev/null').rdev) return false;
    return process.getBuiltinModule('node:tty').isatty(fd);
  } catch {
    return false;
  }
}

// docker sends a registry address or one small JSON object; anything larger is not docker, and is not kept in memory.
const MAX_INPUT_BYTES = 1024 * 1024;

// Read with plain read(2) calls: process.stdin would build a stream (node:net and node:stream, ~3 ms of start-up).
// A non-blocking stdin with nothing in it yet (EAGAIN) is left to the stream, which waits for it properly.
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const add = (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_INPUT_BYTES)
      throw new Error(
        `the input on stdin is larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB; docker sends a registry address or one small JSON object. Nothing was done.`,
      );
    chunks.push(chunk);
  };
  const buffer = Buffer.allocUnsafe(64 * 1024);
  for (;;) {
    let n;
    try {
      n = readSync(0, buffer, 0, buffer.length, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EOF' || code === 'EBADF') break;
      if (code !== 'EAGAIN') throw error;
      for await (const chunk of process.stdin) add(chunk as Buffer);
      break;
    }
    if (n === 0) break;
    add(Buffer.from(buffer.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

// Node's own debug output prints request options and spawn environments (Authorization and AWS session-token headers,
// every secret) past the redactor, for sections http, https, http2, net, tls, fetch, undici, websocket, child_process,
// worker and stream (which prints the chunks it passes). Node enables it at start-up, matching each comma-separated
// name case-insensitively with `*` as "anything" (`htt*`, `*tp`), and re-running ourselves without it would print the
// environment (NODE_DEBUG=child_process). So a run goes on only when every name is one of these sections, which print
// module paths and timer durations; anything else stops before doing anything.
const HARMLESS_DEBUG = ['module', 'esm', 'timer'];

function debugIsHarmless(value: string): boolean {
  // An empty name matches no section. /^[a-z_]+$/i first: toLowerCase maps some non-ASCII letters to ASCII ones.
  return value
    .split(',')
    .every((name) => name === '' || (/^[a-z_]+$/i.test(name) && HARMLESS_DEBUG.includes(name.toLowerCase())));
}

function refuseNodeDebug(): number {
  writer(2)(
    `registry-login: NODE_DEBUG=${JSON.stringify(process.env.NODE_DEBUG)} could make Node print credentials (request headers, the environment); registry-login runs only with the debug sections ${HARMLESS_DEBUG.join(', ')}; unset NODE_DEBUG (or keep only those sections) and run again.\n`,
  );
  return process.argv.includes('--hook') ? 0 : 2;
}

async function main(): Promise<number> {
  if (!debugIsHarmless(process.env.NODE_DEBUG ?? '')) return refuseNodeDebug();
  const helper = basename(process.argv[1] ?? '') === 'docker-credential-registry-login';
  // One plain copy: every read of process.env crosses into C++ and copies the value, and a run reads it often.
  const io = {
    env: { ...process.env },
    stdout: writer(1),
    stderr: writer(2),
    tty: { stdout: isTerminal(1), stderr: isTerminal(2) },
  };
  if (helper) return runCredentialHelper(process.argv.slice(2), io, readStdin);
  return runCli(process.argv.slice(2), io);
}

// Exit as soon as the answer is out rather than letting Node wind down the event loop and the heap (~0.6 ms of every
// run): by then every write has been made synchronously (fd writes, atomic renames, the lock released), and 'exit'
// handlers (the lock's cleanup) still run.
function exit(code: number): void {
  process.exitCode = code;
  process.exit();
}

main().then(exit, (error: unknown) => {
  writer(2)(`registry-login: unexpected failure: ${(error as Error)?.message ?? String(error)}\n`);
  exit(2);
});
