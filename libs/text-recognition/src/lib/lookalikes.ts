/** How the O/0 rule is chosen (REC_LOOKALIKES): by the model (auto), or on or off for any model. */
export type LookalikesSetting = 'auto' | 'on' | 'off';

/**
 * sha256 of ppocr_keys_v1.txt (models/README.md), the dictionary of PaddleOCR's Chinese/English models: the misreads
 * resolveLookalikes answers were measured on PP-OCRv4's model of it, and the same model exported again (a static shape,
 * another opset) keeps them. A model of another dictionary (en_dict, PP-OCRv5's, other languages) is another model.
 */
const MEASURED_DICTIONARY_SHA256 = '28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7';

/**
 * Whether a model's reads go through resolveLookalikes, by its dictionary (CharacterSet.sha256): `auto` only for the
 * models it was measured on. Another may tell O from 0 well, and on its reads the rule would turn a right 0 into O
 * ("VIN 1G1ZT5ST0HF", "DEAD0BEEF").
 */
export const resolvesLookalikes = (setting: LookalikesSetting, dictionarySha256: string): boolean => setting === 'on' || (setting === 'auto' && dictionarySha256 === MEASURED_DICTIONARY_SHA256);

const LATIN_LETTER = /\p{Script=Latin}/u;
const DIGIT = /[0-9]/;

/**
 * The letter O and the digit 0 look alike, and PP-OCRv4's Chinese recognition model, trained mostly on digits in
 * Latin text, reads a Latin O as 0 (measured: 26 of 219 lines holding either were misread that way, often at
 * p(0) > 0.99). A run of zeros with Latin letters right before and after it ("L0T", "D00R") is taken as O, and a run
 * of O's between digits ("2O27") as 0; anything at the edge of a word, or beside other characters, stays as read
 * ("MG00", "P0" stay). Character classes only: no word list is consulted.
 */
export function resolveLookalikes(text: string): string {
  const lettersResolved = text.replace(/0+/g, (run, offset: number) => (isBetween(text, offset, run.length, LATIN_LETTER) ? 'O'.repeat(run.length) : run));
  return lettersResolved.replace(/O+/g, (run, offset: number) => (isBetween(lettersResolved, offset, run.length, DIGIT) ? '0'.repeat(run.length) : run));
}

function isBetween(text: string, offset: number, length: number, kind: RegExp): boolean {
  const before = text[offset - 1];
  const after = text[offset + length];
  return before !== undefined && after !== undefined && kind.test(before) && kind.test(after);
}
