import { words } from '../text.ts';

// Function words and the words people use to ask about papers: they carry no topic.
const STOPWORDS = new Set(
  `a about above after again against all also am an and any are as at be because been before being below between both
  but by can could did do does doing down during each few for from further had has have having he her here hers how i
  if in into is it its itself just me more most my no nor not now of off on once only or other our out over own same
  she should so some such than that the their theirs them then there these they this those through to too under until
  up very was we were what when where which while who whom why will with would you your yours
  paper papers work works study studies research article articles digest today yesterday week recent recently new latest
  show find tell give list know anything something someone someone's any there's what's whats which's does do did
  please thanks hi hello using use used via approach approaches method methods propose proposes proposed
  make makes making better way ways help helps`.split(/\s+/),
);

/** The content words of a query, in order, without repeats. */
export function queryTerms(query: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const w of words(query)) {
    if (STOPWORDS.has(w) || seen.has(w)) continue;
    seen.add(w);
    out.push(w);
  }
  return out;
}

/** Words as one quoted FTS5 phrase: user text can never be read as FTS5 syntax (`AND`, `NEAR`, `*`, columns). */
export function ftsPhrase(words: readonly string[]): string {
  return `"${words.join(' ').replace(/"/g, '""')}"`;
}

/**
 * An FTS5 MATCH expression that ORs the query's content words, each quoted (`ftsPhrase`). Returns undefined
 * when nothing is left.
 */
export function ftsMatchExpression(query: string, maxTerms = 32): string | undefined {
  const terms = queryTerms(query).slice(0, maxTerms);
  if (!terms.length) return undefined;
  return terms.map((t) => ftsPhrase([t])).join(' OR ');
}
