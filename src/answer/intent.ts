import { addDays, dayIn, isValidDate } from '../dates.ts';
import type { DateRange } from '../types.ts';

/** What a question asks of the digest's metadata, beside (or instead of) its text. */
export interface Intent {
  /** Dates the question names ("today", "this week", "on 2026-08-20"), resolved in the configured time zone. */
  range?: DateRange;
  /** Words describing the range, for the answer ("this week (2026-08-17 to 2026-08-21)"). */
  rangeLabel?: string;
  /** Rank by upvotes ("top papers", "most popular", "what's new"). */
  top: boolean;
  /** Only papers with code ("which papers have code?"). */
  withCode: boolean;
  /** The question without the date and metadata words: what it is about, or '' when it is only metadata. */
  topic: string;
}

/** ISO weekday, Monday = 1 ... Sunday = 7, of a `YYYY-MM-DD`. */
function weekday(day: string): number {
  return ((new Date(`${day}T12:00:00Z`).getUTCDay() + 6) % 7) + 1;
}

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const MONTH_RE = `(${MONTHS.map((m) => `${m.slice(0, 3)}(?:${m.slice(3)})?`).join('|')})\\.?`;

const pad2 = (n: number) => String(n).padStart(2, '0');
const monthOf = (name: string): number => MONTHS.findIndex((x) => x.startsWith(name.toLowerCase().slice(0, 3))) + 1;
/** The year in which `month` last began, up to today ("in May" asked in February means last year's May). */
const latestYearOf = (month: number, today: string): number =>
  month > Number(today.slice(5, 7)) ? Number(today.slice(0, 4)) - 1 : Number(today.slice(0, 4));

function monthRange(month: number, year: number): { range: DateRange; label: string } | undefined {
  if (month < 1 || month > 12 || year < 1900 || year > 2999) return undefined;
  const since = `${year}-${pad2(month)}-01`;
  const until = addDays(month === 12 ? `${year + 1}-01-01` : `${year}-${pad2(month + 1)}-01`, -1);
  const name = MONTHS[month - 1]!;
  return {
    range: { since, until },
    label: `in ${name[0]!.toUpperCase()}${name.slice(1)} ${year} (${since} to ${until})`,
  };
}

type DateRule = [RegExp, (m: RegExpExecArray, today: string) => { range: DateRange; label: string } | undefined];

const DATE_RULES: DateRule[] = [
  [
    /\b(?:from |since |on |of )?(\d{4}-\d{2}-\d{2})\s*(?:to|until|through|-|–)\s*(\d{4}-\d{2}-\d{2})\b/i,
    (m) =>
      isValidDate(m[1]!) && isValidDate(m[2]!)
        ? { range: { since: m[1]!, until: m[2]! }, label: `from ${m[1]} to ${m[2]}` }
        : undefined,
  ],
  [
    /\bsince (\d{4}-\d{2}-\d{2})\b/i,
    (m, today) => (isValidDate(m[1]!) ? { range: { since: m[1]!, until: today }, label: `since ${m[1]}` } : undefined),
  ],
  [
    /\b(?:from |on |of |for )?(\d{4}-\d{2}-\d{2})\b/i,
    (m) => (isValidDate(m[1]!) ? { range: { since: m[1]!, until: m[1]! }, label: `on ${m[1]}` } : undefined),
  ],
  [
    new RegExp(`\\b(?:from |on |of |for )?${MONTH_RE}\\s+(\\d{1,2})(?:st|nd|rd|th)?(?:,?\\s+(\\d{4}))?\\b`, 'i'),
    (m, today) => {
      const month = MONTHS.findIndex((x) => x.startsWith(m[1]!.toLowerCase().slice(0, 3))) + 1;
      const pad = (n: number) => String(n).padStart(2, '0');
      let year = m[3] ? Number(m[3]) : Number(today.slice(0, 4));
      let day = `${year}-${pad(month)}-${pad(Number(m[2]))}`;
      if (!m[3] && day > today) day = `${--year}-${pad(month)}-${pad(Number(m[2]))}`;
      return isValidDate(day) ? { range: { since: day, until: day }, label: `on ${day}` } : undefined;
    },
  ],
  // "in August 2026", "Aug 2026": the whole month.
  [
    new RegExp(`\\b(?:(?:in|from|during|of|for) )?${MONTH_RE}\\s+(\\d{4})\\b(?!-\\d)`, 'i'),
    (m) => monthRange(monthOf(m[1]!), Number(m[2])),
  ],
  // "since June", "since May 2026": from its first day to today.
  [
    new RegExp(`\\b(?:since|after) ${MONTH_RE}(?:\\s+(\\d{4}))?\\b`, 'i'),
    (m, today) => {
      const r = monthRange(monthOf(m[1]!), m[2] ? Number(m[2]) : latestYearOf(monthOf(m[1]!), today));
      return r && { range: { since: r.range.since, until: today }, label: `since ${r.range.since}` };
    },
  ],
  // "in May", "during March": the latest such month up to today (a bare "may" is a verb, so a preposition is needed).
  [
    new RegExp(`\\b(?:in|during|from|for|of) ${MONTH_RE}(?![\\w-])`, 'i'),
    (m, today) => monthRange(monthOf(m[1]!), latestYearOf(monthOf(m[1]!), today)),
  ],
  [
    /\b(?:last|previous) month'?s?\b/i,
    (_m, today) => {
      const [y, mo] = [Number(today.slice(0, 4)), Number(today.slice(5, 7))];
      return mo === 1 ? monthRange(12, y - 1) : monthRange(mo - 1, y);
    },
  ],
  [
    /\b(?:past|last) (\d{1,2}) (weeks|months)\b/i,
    (m, today) => {
      const days = Number(m[1]) * (m[2]!.toLowerCase() === 'weeks' ? 7 : 30);
      const since = addDays(today, 1 - days);
      return { range: { since, until: today }, label: `the last ${m[1]} ${m[2]} (${since} to ${today})` };
    },
  ],
  [
    /\b(?:in|during|from|of|since) (20\d{2})\b(?!-\d)/i,
    (m, today) => {
      const since = `${m[1]}-01-01`;
      return /since/i.test(m[0])
        ? { range: { since, until: today }, label: `since ${m[1]}` }
        : { range: { since, until: `${m[1]}-12-31` }, label: `in ${m[1]}` };
    },
  ],
  [/\btoday'?s?\b/i, (_m, today) => ({ range: { since: today, until: today }, label: `today (${today})` })],
  [
    /\byesterday'?s?\b/i,
    (_m, today) => {
      const d = addDays(today, -1);
      return { range: { since: d, until: d }, label: `yesterday (${d})` };
    },
  ],
  [
    /\b(?:this|the current) week'?s?\b/i,
    (_m, today) => {
      const since = addDays(today, 1 - weekday(today));
      return { range: { since, until: today }, label: `this week (${since} to ${today})` };
    },
  ],
  [
    /\b(?:last|previous|past) week'?s?\b/i,
    (_m, today) => {
      const since = addDays(today, 1 - weekday(today) - 7);
      const until = addDays(since, 6);
      return { range: { since, until }, label: `last week (${since} to ${until})` };
    },
  ],
  [
    /\b(?:last|past) (\d{1,3}) days\b/i,
    (m, today) => {
      const since = addDays(today, 1 - Number(m[1]));
      return { range: { since, until: today }, label: `the last ${m[1]} days (${since} to ${today})` };
    },
  ],
  [
    /\b(?:this|the current) month'?s?\b/i,
    (_m, today) => {
      const since = `${today.slice(0, 8)}01`;
      return { range: { since, until: today }, label: `this month (${since} to ${today})` };
    },
  ],
];

const TOP = /\b(?:top|best|most (?:upvoted|popular|liked|discussed)|popular|trending|highest[- ]rated|hottest)\b/i;
const NEW =
  /\b(?:what'?s new|what is new|new papers?|latest (?:papers?|digest)|papers? (?:out|published) (?:today|yesterday)|what came out|digest)\b/i;
const CODE =
  /\b(?:(?:have|has|with|release[sd]?|share[sd]?|open[- ]sourced?|include[sd]?|provide[sd]?|come with)\s+(?:their |the |public |open[- ]source )?(?:code|github|repos?(?:itor(?:y|ies))?|implementations?)|code (?:is )?(?:available|released)|github)\b/i;
/** Words that only frame a metadata question; whatever else is left is its topic. */
const FRAME =
  /\b(?:what'?s|what|which|show|list|give|tell|me|are|is|were|the|there|any|papers?|articles?|new|latest|digest|top|best|most|upvoted|popular|trending|hottest|highest[- ]rated|from|on|of|in|about|for|this|last|past|week|month|since|during|today|yesterday|have|has|with|code|github|repos?|released?|available|open[- ]source[d]?|do|does|please|ones?|that|came|out|published|papers?'?s|\d+)\b/gi;

/**
 * Reads the metadata a question asks about: dates (in `timeZone`), "top"/"new" (rank by upvotes), "with code".
 * The rest of the question is its topic, searched in the text as usual.
 */
export function parseIntent(question: string, timeZone: string, now: Date = new Date()): Intent {
  const today = dayIn(timeZone, now);
  let rest = question;
  const intent: Intent = { top: false, withCode: false, topic: '' };
  for (const [re, make] of DATE_RULES) {
    const m = re.exec(rest);
    if (!m) continue;
    const r = make(m, today);
    if (!r) continue;
    intent.range = r.range;
    intent.rangeLabel = r.label;
    rest = rest.replace(m[0], ' ');
    break;
  }
  intent.top = TOP.test(rest) || NEW.test(question);
  intent.withCode = CODE.test(rest);
  intent.topic = rest
    .replace(CODE, ' ')
    .replace(FRAME, ' ')
    .replace(/[^\p{L}\p{N}\s-]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!intent.topic) intent.topic = '';
  else intent.topic = rest.replace(CODE, ' ').replace(/\s+/g, ' ').trim(); // keep the full wording for search
  return intent;
}

/** True when the question is only about metadata: it should be answered from the data, not the text. */
export function isMetadataOnly(intent: Intent): boolean {
  return !intent.topic && (intent.top || intent.withCode || intent.range !== undefined);
}
