/**
 * Links from upstream are untrusted: only `https:` URLs are ever shown (no `javascript:`, `data:`, `http:` or
 * credentials), a code link is labelled GitHub only when it is on github.com, and any other https code host
 * becomes the paper's project link when it has none (or is dropped).
 */
export function httpsUrl(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return undefined;
  }
  if (u.protocol !== 'https:' || u.username || u.password || !u.hostname.includes('.')) return undefined;
  return u.href;
}

export function isGithubUrl(url: string): boolean {
  const host = new URL(url).hostname.toLowerCase();
  return host === 'github.com' || host === 'www.github.com';
}

/** The links a paper may show: a GitHub repository and a project page, each https only. */
export function safeLinks(code: unknown, project: unknown): { githubUrl?: string; projectUrl?: string } {
  const c = httpsUrl(code);
  const p = httpsUrl(project);
  const out: { githubUrl?: string; projectUrl?: string } = {};
  if (c && isGithubUrl(c)) out.githubUrl = c;
  const proj = p ?? (c && !isGithubUrl(c) ? c : undefined);
  if (proj) out.projectUrl = proj;
  return out;
}
