/** Letters of the scripts written right to left. */
const RIGHT_TO_LEFT = /[\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Adlam}]/u;
/** What PaddleOCR keeps together, in the order read, when it turns a line round: Latin letters, digits and what joins them in numbers, times and paths. */
const KEPT_IN_ORDER = /[a-zA-Z0-9 :*./%+-]/;

/**
 * A CTC model reads every line left to right, so a line of right-to-left script comes out back to front. PaddleOCR
 * turns it round for its Arabic models (pred_reverse): each run of Latin letters and digits keeps its order, and the
 * runs and every other character are reversed. The same here, with two differences: it is done to any line that
 * holds a right-to-left letter, whatever the dictionary is called, and to no other (PaddleOCR does it where the
 * dictionary's path names "arabic", to every line, so that a Latin "Café!" read by its Arabic model comes out
 * "!éCaf"); and spaces at a run's ends are turned round with the words they part ("PDF فلم" is "ملف PDF", where
 * PaddleOCR gives "ملفPDF ").
 */
export function inWritingOrder(text: string): string {
  if (!RIGHT_TO_LEFT.test(text)) return text;
  const pieces: string[] = [];
  let run = '';
  const endRun = () => {
    const [, before, kept, after] = /^( *)(.*?)( *)$/s.exec(run) ?? ['', '', run, ''];
    pieces.push(...before, ...(kept ? [kept] : []), ...after);
    run = '';
  };
  // By code point, as Python iterates a string.
  for (const character of text) {
    if (KEPT_IN_ORDER.test(character)) {
      run += character;
      continue;
    }
    endRun();
    pieces.push(character);
  }
  endRun();
  return pieces.reverse().join('');
}
