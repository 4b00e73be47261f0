// A live process holding a docker config's lock as a running registry-login does: the lock directory beside the file,
// its owner record (PID, start time, boot and PID namespace), its time refreshed so it never goes stale. Prints
// "held" once it holds it and keeps it until SIGTERM. Usage: node lock-holder.mjs <config file>
import { mkdirSync, readFileSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';

const lock = `${process.argv[2]}.lock`;
const stat = readFileSync('/proc/self/stat', 'utf8');
mkdirSync(lock, { mode: 0o700 });
writeFileSync(
  `${lock}/owner`,
  JSON.stringify({
    pid: process.pid,
    startTime: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19],
    bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
    pidNamespace: readlinkSync('/proc/self/ns/pid'),
  }),
  { mode: 0o600 },
);
setInterval(() => {
  const now = new Date();
  utimesSync(lock, now, now);
}, 500);
// Released on SIGTERM, as a registry-login that finished would release it.
process.on('SIGTERM', () => {
  rmSync(lock, { recursive: true, force: true });
  process.exit(0);
});
process.stdout.write('held\n');
