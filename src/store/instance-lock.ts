/**
 * One `serve` per data dir: a second one would answer every interaction twice and race the first on every
 * ledger. The lock is a file beside the database with the holder's pid, host and a lease it renews; a lock
 * whose holder is gone (its pid is dead on this host, or its lease ran out: kill -9, a lost container) is taken
 * over. CLI commands take no lock: they may run beside a serving bot (SQLite in WAL mode with a busy timeout).
 */
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { UserFacingError } from '../errors.ts';

export class InstanceLockedError extends UserFacingError {
  override name = 'InstanceLockedError';
}

interface LockRecord {
  pid: number;
  host: string;
  startedAt: string;
  renewedAt: string;
}

export interface InstanceLock {
  readonly file: string;
  /** Stops renewing and removes the lock (if it is still ours). */
  release(): void;
}

/** How long a lock holds without renewal; it is renewed every third of that. */
export const LEASE_MS = 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

function read(file: string): LockRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockRecord;
  } catch {
    return undefined; // missing, or cut short by a crash while written: not a live holder
  }
}

/** Whether the holder of a lock record is still there. */
function held(r: LockRecord, now: Date, leaseMs: number): boolean {
  if (r.pid === process.pid && r.host === hostname()) return false; // a record of ours from before (pid reuse)
  const fresh = now.getTime() - Date.parse(r.renewedAt) < leaseMs;
  return r.host === hostname() ? alive(r.pid) && fresh : fresh;
}

export function acquireInstanceLock(
  dataDir: string,
  opts: { now?: () => Date; leaseMs?: number; what?: string } = {},
): InstanceLock {
  const file = path.join(dataDir, 'serve.lock');
  const now = opts.now ?? (() => new Date());
  const leaseMs = opts.leaseMs ?? LEASE_MS;
  const record = (): LockRecord => ({ pid: process.pid, host: hostname(), startedAt, renewedAt: now().toISOString() });
  const startedAt = now().toISOString();
  const write = () => {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(record()));
    renameSync(tmp, file); // atomic: a reader sees the old record or the new one
  };
  try {
    closeSync(openSync(file, 'wx'));
    write();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const other = read(file);
    if (other && held(other, now(), leaseMs)) {
      throw new InstanceLockedError(
        `Another ${opts.what ?? 'serve'} is running on ${dataDir} (pid ${other.pid} on ${other.host}, since ${other.startedAt}). ` +
          'Stop it first, or give this one its own DATA_DIR. (A lock left by a process that died is taken over by itself.)',
      );
    }
    write(); // the holder is gone: take over
  }
  const mine = read(file);
  if (mine?.pid !== process.pid || mine.host !== hostname()) {
    throw new InstanceLockedError(`Another process took the lock on ${dataDir} at the same moment; try again.`);
  }
  const timer = setInterval(() => {
    const r = read(file);
    if (r?.pid === process.pid) write();
  }, leaseMs / 3);
  timer.unref();
  return {
    file,
    release() {
      clearInterval(timer);
      if (read(file)?.pid === process.pid) {
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      }
    },
  };
}
