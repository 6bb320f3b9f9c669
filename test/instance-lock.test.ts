import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireInstanceLock, InstanceLockedError } from '../src/store/instance-lock.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lock-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const lockFile = () => path.join(dir, 'serve.lock');
const record = (pid: number, host: string, renewedAt: Date) =>
  JSON.stringify({ pid, host, startedAt: renewedAt.toISOString(), renewedAt: renewedAt.toISOString() });

/** A pid that is certainly dead: a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('the instance lock', () => {
  it('refuses a second holder while the first lives, and frees the data dir on release', () => {
    // Another live process on this host holds it (the parent of this test process, say).
    writeFileSync(lockFile(), record(process.ppid, hostname(), new Date()));
    expect(() => acquireInstanceLock(dir)).toThrow(InstanceLockedError);
    expect(() => acquireInstanceLock(dir)).toThrow(/Another serve is running on .* \(pid \d+ on .*\)\. Stop it first/);
    // Released by its holder: free again.
    writeFileSync(lockFile(), record(process.pid, hostname(), new Date()));
    const lock = acquireInstanceLock(dir);
    lock.release();
    expect(existsSync(lockFile())).toBe(false);
  });

  it('takes over a lock left by a process that died (kill -9), or one whose lease ran out on another host', () => {
    writeFileSync(lockFile(), record(deadPid(), hostname(), new Date()));
    const a = acquireInstanceLock(dir);
    a.release();
    writeFileSync(lockFile(), record(12345, 'another-host', new Date(Date.now() - 5 * 60_000)));
    const b = acquireInstanceLock(dir);
    b.release();
    writeFileSync(lockFile(), record(12345, 'another-host', new Date()));
    expect(() => acquireInstanceLock(dir)).toThrow(InstanceLockedError); // a live lease elsewhere is respected
    writeFileSync(lockFile(), '{"pid": 1'); // cut short by a crash while written
    acquireInstanceLock(dir).release();
  });
});
