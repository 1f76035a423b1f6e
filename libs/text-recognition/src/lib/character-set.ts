import { readFileSync } from 'node:fs';

/**
 * The classes a CTC recognition model predicts, as PaddleOCR's CTCLabelDecode lays them out: index 0 is the CTC
 * blank, then the dictionary's characters one per line, then a space (use_space_char, on for PP-OCR models).
 */
export class CharacterSet {
  /** Class index → character; index 0 (blank) maps to ''. */
  readonly characters: readonly string[];

  constructor(dictionary: readonly string[]) {
    this.characters = ['', ...dictionary, ' '];
  }

  /** Classes the model must predict: the dictionary, the blank and the space. */
  get classCount(): number {
    return this.characters.length;
  }

  /** Reads a dictionary file (one character per line, UTF-8), as PaddleOCR does: line ends stripped, nothing else. */
  static fromFile(path: string): CharacterSet {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the recognition dictionary ${path}: ${(error as Error).message} (set REC_DICT_PATH to the dictionary the recognition model was trained with)`);
    }
    const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
    if (lines.at(-1) === '') lines.pop();
    if (lines.length === 0) throw new Error(`the recognition dictionary ${path} is empty (expected one character per line)`);
    return new CharacterSet(lines);
  }

  /** Throws, naming both files, when the model's class count does not fit this dictionary. */
  assertFits(modelClasses: number, modelPath: string, dictionaryPath: string): void {
    if (modelClasses === this.classCount) return;
    throw new Error(
      `the recognition model ${modelPath} predicts ${modelClasses} classes, but the dictionary ${dictionaryPath} ` +
        `has ${this.classCount - 2} characters (+ blank + space = ${this.classCount}): use the dictionary the model was trained with`,
    );
  }
}
