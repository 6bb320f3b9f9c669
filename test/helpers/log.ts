import type { Logger, LogFields } from '../../src/log.ts';

/** A Logger that appends each line (with its level) to `lines`, for tests that read what a job logged. */
export function pushTo(lines: { event: string; fields?: LogFields; level?: string }[]): Logger {
  const at = (level: string) => (event: string, fields?: LogFields) =>
    void lines.push({ level, event, ...(fields ? { fields } : {}) });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
