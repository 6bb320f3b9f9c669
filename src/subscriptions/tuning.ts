/**
 * The topic matcher's tuning, in one place. A plain topic matches a paper when
 *
 *   coverage + SIMILARITY_WEIGHT x title similarity + PROFILE_WEIGHT x profile >= MATCH_THRESHOLD
 *
 * - coverage in [0, 1]: the idf-weighted share of the topic's words the paper is about. Each word counts by where
 *   it occurs: tf = FIELD_WEIGHT.title x (title and HF keywords) + .summary x (HF summary) + .abstract x
 *   (abstract), saturated as tf / (tf + SATURATION): one passing mention in the abstract is worth 0.4, a word of
 *   the title 0.67 or more. Adjacent topic words also count as a pair (the second within PAIR_WINDOW words of the
 *   first, weight PAIR_WEIGHT x the larger idf of the two): "world models" is not "real-world ... models". GENERIC
 *   words weigh GENERIC_WEIGHT and pair with nothing: "AI agents" are agents.
 * - similarity: cosine of the topic's and the title's embeddings.
 * - profile: how much the paper resembles the corpus papers whose title or keywords name the topic (profile.ts);
 *   PROFILE_NEUTRAL when the topic has none (fewer than 5 such papers) or the paper has no vectors.
 *
 * Chosen with `npm run eval` (subscriptions part, `--sweep` for other thresholds) on the dev topics of
 * scripts/eval/topics.json, static model potion-base-4M-int8: the profile weight (0.3 of 0.2-0.5) and the threshold
 * as the best dev recall at precision 0.8. The figures, and what was tried, are in scripts/eval/README.md. Another
 * embedding model changes the similarity and profile scales: re-run the eval before trusting the threshold.
 */

export const MATCH_THRESHOLD = 0.85;
export const SIMILARITY_WEIGHT = 0.5;
export const PROFILE_WEIGHT = 0.3;
/** What a pair without a profile score counts as: then a paper matches at coverage + 0.5 x similarity >= 0.70. */
export const PROFILE_NEUTRAL = 0.5;
/** Saturation constant: tf / (tf + SATURATION). */
export const SATURATION = 1.5;
export const FIELD_WEIGHT = { title: 3, summary: 2, abstract: 1 } as const;
/** Pair weight, relative to the larger idf of its two words. */
export const PAIR_WEIGHT = 0.5;
/** How far the second word of a pair may follow the first (1 = adjacent). */
export const PAIR_WINDOW = 2;
/** Words the whole digest is about; they barely discriminate and are never part of a pair. */
export const GENERIC = new Set(['ai', 'llm', 'llms', 'lm', 'lms', 'mllm', 'mllms']);
export const GENERIC_WEIGHT = 0.1;
/** A word counts as matched in the explanation from tf >= this (title, summary, or twice in the abstract). */
export const SHOWN_TF = 1.5;
