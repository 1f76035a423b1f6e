import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The settings that name the recognition model and its dictionary, said in errors about them: the modules' variables, or the CLI's flags. */
export interface RecognitionFileSettings {
  model: string;
  dictionary: string;
}

export const RECOGNITION_FILE_VARIABLES: RecognitionFileSettings = { model: 'REC_MODEL_PATH', dictionary: 'REC_DICT_PATH' };

/** Refuses bytes that are not UTF-8, and drops a byte-order mark at the start. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The classes a CTC recognition model predicts, as PaddleOCR's CTCLabelDecode lays them out: index 0 is the CTC
 * blank, then the dictionary's characters one per line, then a space when the model was trained with
 * use_space_char (PP-OCR's models are; assertFits tells from the model).
 */
export class CharacterSet {
  /** Class index → character; index 0 (blank) maps to ''. */
  characters: readonly string[];

  /** The dictionary's identity: the sha256 of its characters one a line, the file's own where it is so written (no BOM, no CR, no last newline). */
  readonly sha256: string;

  /**
   * `trailingBlankLines`: blank lines the file had at its end, not counted as characters unless the model has a class
   * for each (PaddleOCR keeps them: a model trained on such a dictionary has them; see assertFits).
   */
  constructor(
    private readonly dictionary: readonly string[],
    private readonly trailingBlankLines = 0,
  ) {
    this.characters = ['', ...dictionary, ' '];
    this.sha256 = createHash('sha256').update(dictionary.join('\n')).digest('hex');
  }

  /** Classes the model predicts: the blank, the dictionary, and the space unless assertFits found none. */
  get classCount(): number {
    return this.characters.length;
  }

  /** Whether a class reads as a space: the model's own space class, or a space among the dictionary's characters. */
  get readsSpaces(): boolean {
    return this.characters.includes(' ');
  }

  /**
   * Reads a dictionary file (one character per line, UTF-8: refused otherwise), as PaddleOCR does: line ends stripped,
   * nothing else but a byte-order mark (an editor's, never a character of the model's), which PaddleOCR would keep in the first character,
   * and blank lines at the end, set aside: an empty class reads as nothing, and one blank line an editor added would fit
   * a model with a space class as a model without one, so every space would read as nothing.
   */
  static fromFile(path: string, setting = RECOGNITION_FILE_VARIABLES.dictionary): CharacterSet {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      throw new Error(`cannot read the recognition dictionary ${path}: ${(error as Error).message} (set ${setting} to the dictionary the recognition model was trained with)`);
    }
    let text: string | undefined;
    try {
      text = UTF8.decode(bytes);
    } catch {
      // Left undefined: decoded leniently, a GBK file keeps its line count, fits the model, and reads every Chinese character as U+FFFD.
    }
    // UTF-16 without a byte-order mark, of ASCII characters (en_dict.txt), is valid UTF-8 with a NUL beside each: no dictionary holds a NUL.
    if (text === undefined || text.includes('\0')) {
      throw new Error(`the recognition dictionary ${path} (${setting}) is not UTF-8 text (GBK or UTF-16?): PaddleOCR's dictionaries are UTF-8; save it as UTF-8`);
    }
    // PaddleOCR's strip("\r\n"): every CR at either end, as a CRLF file written again in text mode on Windows has two.
    const lines = text.split('\n').map((line) => line.replace(/^\r+|\r+$/g, ''));
    // The last line's own newline ends no blank line.
    if (lines.at(-1) === '') lines.pop();
    let trailingBlankLines = 0;
    while (lines.at(-1) === '') {
      lines.pop();
      trailingBlankLines++;
    }
    if (lines.length === 0) throw new Error(`the recognition dictionary ${path} (${setting}) is empty (expected one character per line)`);
    return new CharacterSet(lines, trailingBlankLines);
  }

  /**
   * Takes the space class from the model's class count (dictionary + blank, or + space too: use_space_char is a
   * training option), the dictionary's characters first without its blank lines at the end, then with as many of
   * them as make it fit (a model trained on them has a class for each); throws, naming both files and the settings
   * that set them, when the count fits neither.
   */
  assertFits(modelClasses: number, modelPath: string, dictionaryPath: string, settings = RECOGNITION_FILE_VARIABLES): void {
    for (let blankLines = 0; blankLines <= this.trailingBlankLines; blankLines++) {
      const dictionary = [...this.dictionary, ...Array<string>(blankLines).fill('')];
      const withoutSpace = dictionary.length + 1;
      if (modelClasses === withoutSpace || modelClasses === withoutSpace + 1) {
        this.characters = modelClasses === withoutSpace ? ['', ...dictionary] : ['', ...dictionary, ' '];
        return;
      }
    }
    const withoutSpace = this.dictionary.length + 1;
    const blank = this.trailingBlankLines > 0 ? ` and ${this.trailingBlankLines} blank line${this.trailingBlankLines === 1 ? '' : 's'} at its end` : '';
    throw new Error(
      `the recognition model ${modelPath} (${settings.model}) predicts ${modelClasses} classes, but the dictionary ${dictionaryPath} (${settings.dictionary}) ` +
        `has ${this.dictionary.length} characters${blank} (+ blank = ${withoutSpace}, or + blank + space = ${withoutSpace + 1}): use the dictionary the model was trained with`,
    );
  }
}
