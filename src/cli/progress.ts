import cliProgress from 'cli-progress';
import type { IngestProgress } from '../ingest/ingester.ts';

/** A progress bar on stderr when it is a terminal; nothing otherwise (logs and pipes stay clean). */
export function embedProgressBar(stream: NodeJS.WriteStream = process.stderr): IngestProgress {
  if (!stream.isTTY) return {};
  const bar = new cliProgress.SingleBar(
    { stream, format: 'embedding |{bar}| {value}/{total} chunks  {percentage}%  eta {eta}s', hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  return {
    embedStart: (total) => bar.start(total, 0),
    embedProgress: (done) => bar.update(done),
    embedEnd: () => bar.stop(),
  };
}
