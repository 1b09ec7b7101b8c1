// Counts and articles in messages: "1 row" / "2 rows", "a list" / "an object". One place for the English rules, so a
// count that can be 1 never prints "1 rows" and a type name never reads "a undefined". Pure; shared by the app, the
// worker, the data layer and the CLI.

const EN = new Intl.PluralRules('en-US');

/** `count(1, 'row')` → "1 row", `count(1234, 'row')` → "1,234 rows", `count(2, 'batch', 'batches')` → "2 batches". */
export function count(n: number, one: string, other = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${EN.select(n) === 'one' ? one : other}`;
}

/** Words that start with a vowel letter but a consonant sound ("a user", "a one-off", "a UTF-8 file"), and the reverse
 * ("an hour", "an LM", "an SFT run"): the spelling rule with the exceptions TabTune's messages can meet. */
const CONSONANT_SOUND = /^(?:u(?:s[eu]|ni|tf|rl)|one\b|eu)/i;
const VOWEL_SOUND = /^(?:hour|honest|[fhlmnrsx](?:[A-Z0-9]|$)|[FHLMNRSX][^a-z])/;

/** The phrase with "a" or "an" in front: `withArticle('object')` → "an object", `withArticle('list')` → "a list". */
export function withArticle(phrase: string): string {
  const vowel = VOWEL_SOUND.test(phrase) || (/^[aeiou]/i.test(phrase) && !CONSONANT_SOUND.test(phrase));
  return `${vowel ? 'an' : 'a'} ${phrase}`;
}
