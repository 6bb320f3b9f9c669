import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  downloadHubFiles,
  HubDownloadInterruptedError,
  HubFileNotFoundError,
  type HubDownloadOptions,
  type HubDownloadProgress,
} from '../src/embeddings/hub-download.ts';
import { fetchWithRetry } from '../src/http.ts';
import { HfEmulator } from './helpers/hf-emulator.ts';

const REPO = 'test-org/tiny-model';
const MODEL = randomBytes(256 * 1024);
const CONFIG = JSON.stringify({ model_type: 'synthetic', hidden_size: 8 });
const TOKENIZER = JSON.stringify({ version: '1.0', vocab: { a: 0, b: 1 } });

let work: string;
let repoDir: string;
let dest: string;
let emu: HfEmulator;

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'hub-download-'));
  repoDir = path.join(work, 'repo');
  dest = path.join(work, 'dest');
  await mkdir(path.join(repoDir, 'onnx'), { recursive: true });
  await writeFile(path.join(repoDir, 'config.json'), CONFIG);
  await writeFile(path.join(repoDir, 'tokenizer.json'), TOKENIZER);
  await writeFile(path.join(repoDir, 'onnx', 'model.onnx'), MODEL);
  emu = await HfEmulator.start({ repos: { [REPO]: repoDir } });
});

afterEach(async () => {
  await emu.close();
  await rm(work, { recursive: true, force: true });
});

const FILES = ['config.json', 'tokenizer.json', 'onnx/model.onnx'];

function opts(extra: Partial<HubDownloadOptions> = {}): HubDownloadOptions {
  return {
    endpoint: emu.endpoint,
    repo: REPO,
    files: FILES,
    destDir: dest,
    minDelayMs: 5,
    maxDelayMs: 20,
    timeoutMs: 2000,
    ...extra,
  };
}

/** Every file under `dir`, relative, `/`-separated. */
async function listFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const all = await readdir(dir, { recursive: true, withFileTypes: true });
  return all
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)).split(path.sep).join('/'))
    .sort();
}

describe('downloadHubFiles', () => {
  it('downloads the files from /{repo}/resolve/{revision}/{file}, byte for byte', async () => {
    const progress: HubDownloadProgress[] = [];
    const result = await downloadHubFiles(opts({ onProgress: (p) => progress.push(p) }));
    expect(result.downloaded).toEqual(FILES);
    expect(result.skipped).toEqual([]);
    expect(await readFile(path.join(dest, 'config.json'), 'utf8')).toBe(CONFIG);
    expect(await readFile(path.join(dest, 'tokenizer.json'), 'utf8')).toBe(TOKENIZER);
    expect((await readFile(path.join(dest, 'onnx', 'model.onnx'))).equals(MODEL)).toBe(true);
    expect(await listFiles(dest)).toEqual(['config.json', 'onnx/model.onnx', 'tokenizer.json']); // no .partial left
    expect(emu.requests.map((r) => r.url)).toEqual(FILES.map((f) => `/${REPO}/resolve/main/${f}`));
    const modelDone = progress.find((p) => p.file === 'onnx/model.onnx' && p.status === 'done');
    expect(modelDone).toMatchObject({ index: 2, count: 3, receivedBytes: MODEL.length, totalBytes: MODEL.length });
    expect(progress.some((p) => p.status === 'downloading')).toBe(true);
  });

  it('skips files that are already present', async () => {
    await downloadHubFiles(opts());
    emu.clearLog();
    const result = await downloadHubFiles(opts());
    expect(result.skipped).toEqual(FILES);
    expect(result.downloaded).toEqual([]);
    expect(emu.requests).toHaveLength(0);
  });

  it('follows redirects (LFS files on the Hub redirect to a CDN)', async () => {
    await emu.close();
    emu = await HfEmulator.start({ repos: { [REPO]: repoDir }, redirectFiles: true });
    await downloadHubFiles(opts({ files: ['onnx/model.onnx'] }));
    expect((await readFile(path.join(dest, 'onnx', 'model.onnx'))).equals(MODEL)).toBe(true);
    expect(emu.requests.map((r) => r.status)).toEqual([302, 200]);
    expect(emu.requests[1]!.path).toMatch(/^\/__cdn\//);
  });

  it('encodes a revision such as refs/pr/1 as one path segment', async () => {
    await downloadHubFiles(opts({ files: ['config.json'], revision: 'refs/pr/1' }));
    expect(emu.requests[0]!.url).toBe(`/${REPO}/resolve/refs%2Fpr%2F1/config.json`);
    expect(existsSync(path.join(dest, 'config.json'))).toBe(true);
  });

  it('an optional file may 404; a required one fails clearly, unretried, leaving nothing behind', async () => {
    const result = await downloadHubFiles(opts({ files: ['config.json'], optionalFiles: ['tokenizer_config.json'] }));
    expect(result).toMatchObject({ downloaded: ['config.json'], missing: ['tokenizer_config.json'] });

    emu.clearLog();
    const err = await downloadHubFiles(opts({ files: ['onnx/model_quantized.onnx'] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubFileNotFoundError);
    expect((err as Error).message).toMatch(
      /^File "onnx\/model_quantized\.onnx" was not found in Hub repo "test-org\/tiny-model" at revision "main" \(HTTP 404 from http:\/\/127\.0\.0\.1:\d+\/test-org\/tiny-model\/resolve\/main\/onnx\/model_quantized\.onnx\)/,
    );
    expect(emu.requests).toHaveLength(1);
    expect(await listFiles(dest)).toEqual(['config.json']);
  });

  it('an unknown repo (401, like the Hub) says it may not exist or be gated', async () => {
    const err = await downloadHubFiles(opts({ repo: 'nobody/nothing', files: ['config.json'] })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HubFileNotFoundError);
    expect((err as Error).message).toMatch(/"nobody\/nothing".*HTTP 401.*may not exist, or it is private or gated/);
  });

  it('retries a 503 on a file, then completes', async () => {
    emu.failNext('model.onnx', 503, { retryAfter: 0 });
    const result = await downloadHubFiles(opts({ files: ['onnx/model.onnx'] }));
    expect(result.downloaded).toEqual(['onnx/model.onnx']);
    expect(emu.requests.map((r) => r.status)).toEqual([503, 200]);
  });

  it('a body cut off mid-way is downloaded again, and the result is complete', async () => {
    emu.truncateNext('model.onnx');
    await downloadHubFiles(opts({ files: ['onnx/model.onnx'] }));
    expect(emu.requests.map((r) => r.status)).toEqual(['truncated', 200]);
    expect((await readFile(path.join(dest, 'onnx', 'model.onnx'))).equals(MODEL)).toBe(true);
    expect(await listFiles(dest)).toEqual(['onnx/model.onnx']);
  });

  it('a download that keeps breaking off leaves no file that looks complete', async () => {
    emu.truncateNext('model.onnx', { times: 10 });
    const err = await downloadHubFiles(opts({ files: ['config.json', 'onnx/model.onnx'], retries: 1 })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HubDownloadInterruptedError);
    expect((err as Error).message).toMatch(
      /^Downloading "onnx\/model\.onnx" from Hub repo "test-org\/tiny-model" failed after 2 attempts: the transfer was interrupted \(terminated\)\. No partial file was kept/,
    );
    expect(emu.log('model.onnx').map((r) => r.status)).toEqual(['truncated', 'truncated']);
    expect(await listFiles(dest)).toEqual(['config.json']); // neither model.onnx nor model.onnx.partial
  });

  it('a transfer that stalls mid-body is abandoned after stallTimeoutMs', async () => {
    emu.truncateNext('model.onnx', { stall: true });
    const started = Date.now();
    const err = await downloadHubFiles(opts({ files: ['onnx/model.onnx'], retries: 0, stallTimeoutMs: 150 })).catch(
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(1500);
    expect(err).toBeInstanceOf(HubDownloadInterruptedError);
    expect((err as Error).message).toMatch(/failed after 1 attempt: the transfer stalled: no data for 0\.15 s\./);
    expect(await listFiles(dest)).toEqual([]);
  });

  it('a stale .partial from an earlier crash is not taken for the file, and is replaced', async () => {
    await mkdir(path.join(dest, 'onnx'), { recursive: true });
    await writeFile(path.join(dest, 'onnx', 'model.onnx.partial'), MODEL.subarray(0, 1000));
    const result = await downloadHubFiles(opts({ files: ['onnx/model.onnx'] }));
    expect(result.downloaded).toEqual(['onnx/model.onnx']);
    expect((await readFile(path.join(dest, 'onnx', 'model.onnx'))).equals(MODEL)).toBe(true);
    expect(await listFiles(dest)).toEqual(['onnx/model.onnx']);
  });

  it('rejects repo ids and file paths that could escape the destination', async () => {
    await expect(downloadHubFiles(opts({ files: ['../escape.json'] }))).rejects.toThrow(/Not a valid file path/);
    await expect(downloadHubFiles(opts({ repo: '../x', files: ['config.json'] }))).rejects.toThrow(
      /Not a valid Hub repo id/,
    );
    expect(emu.requests).toHaveLength(0);
  });

  it('the emulator answers HEAD with headers only', async () => {
    const res = await fetchWithRetry(`${emu.endpoint}/${REPO}/resolve/main/onnx/model.onnx`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(MODEL.length));
    expect(emu.requests[0]).toMatchObject({ method: 'HEAD', status: 200 });
    const missing = await fetch(`${emu.endpoint}/${REPO}/resolve/main/nope.bin`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'Entry not found' });
  });
});
