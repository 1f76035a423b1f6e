/** Characters of the scripts written right to left (their digits too, though numbers keep their order). */
const RIGHT_TO_LEFT = /[\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Adlam}\p{Script=Samaritan}\p{Script=Mandaic}\p{Script=Hanifi_Rohingya}]/u;
const LETTER = /\p{L}/u;
const DIGIT = /\p{Nd}/u;
const MARK = /\p{M}/u;
/** What PaddleOCR keeps in a run beside letters and digits: times, decimals, paths, signs, and spaces (see below). */
const JOINER = /[ :*./%+-]/;
/** A bracket turned round with the line faces the other way. */
const MIRRORED: Readonly<Record<string, string>> = { '(': ')', ')': '(', '[': ']', ']': '[', '{': '}', '}': '{', '<': '>', '>': '<', '«': '»', '»': '«' };

/**
 * A CTC model reads every line left to right, so a line of right-to-left script comes out back to front. PaddleOCR
 * turns it round for its Arabic models (pred_reverse): each run of Latin letters and digits, with what joins them
 * (`:*./%+-` and spaces), keeps its order, and the runs and every other character are reversed, code point by code
 * point. The same here, for any line that holds a right-to-left character, whatever the dictionary is called, and for
 * no other (PaddleOCR does it where the dictionary's path names "arabic", to every line: a Latin "Café!" read by its
 * Arabic model comes out "!éCaf"). Where PaddleOCR's runs are ASCII, these follow Unicode's bidirectional rules a little
 * further, as a reader expects:
 * - a run holds any letter not of a right-to-left script (an accented Latin one, Greek, Cyrillic) and any digit
 *   (Arabic-Indic ones too: numbers read left to right in any script), with the marks that follow them;
 * - a space stays inside a run only between two letters: two numbers, or a word and a number, apart by a space are
 *   laid out right to left, and a space at a run's end goes with the words it parts;
 * - a bracket turned round is mirrored, as a right-to-left line draws it ("(PDF) فلم" is "ملف (PDF)").
 */
export function inWritingOrder(text: string): string {
  if (!RIGHT_TO_LEFT.test(text)) return text;
  const pieces: string[] = [];
  let run: string[] = [];
  // Whether the last character (a mark goes with it) belongs to a run read left to right.
  let inRun = false;
  const endRun = () => {
    pieces.push(...splitAtSpaces(run));
    run = [];
  };
  // By code point, as Python iterates a string.
  for (const character of text) {
    inRun = MARK.test(character) ? inRun : (LETTER.test(character) && !RIGHT_TO_LEFT.test(character)) || DIGIT.test(character) || JOINER.test(character);
    if (inRun) {
      run.push(character);
      continue;
    }
    endRun();
    pieces.push(MIRRORED[character] ?? character);
  }
  endRun();
  return pieces.reverse().join('');
}

/** A run's pieces: split at each space that does not stand between two letters (marks on the first of them included). */
function splitAtSpaces(run: readonly string[]): string[] {
  const pieces: string[] = [];
  let piece = '';
  run.forEach((character, index) => {
    if (character !== ' ' || (lastLetterBefore(run, index) && LETTER.test(run[index + 1] ?? ''))) {
      piece += character;
      return;
    }
    if (piece) pieces.push(piece);
    pieces.push(character);
    piece = '';
  });
  if (piece) pieces.push(piece);
  return pieces;
}

/** Whether the character before `index`, past any marks on it, is a letter. */
function lastLetterBefore(run: readonly string[], index: number): boolean {
  let before = index - 1;
  while (before >= 0 && MARK.test(run[before])) before--;
  return before >= 0 && LETTER.test(run[before]);
}
