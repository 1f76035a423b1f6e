import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CharacterSet } from './character-set';

describe('CharacterSet', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'iev-dict-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("lays out PaddleOCR's classes: blank, the dictionary's characters, then the space", () => {
    const path = join(dir, 'crlf.txt');
    writeFileSync(path, 'a\r\nb\r\n字\r\n');
    const characters = CharacterSet.fromFile(path);
    expect(characters.characters).toEqual(['', 'a', 'b', '字', ' ']);
    expect(characters.classCount).toBe(5);
  });

  it('strips every CR at the ends of a line, as PaddleOCR\'s strip("\\r\\n") does: a CRLF file written again in text mode on Windows ends its lines \\r\\r\\n', () => {
    const path = join(dir, 'crcrlf.txt');
    writeFileSync(path, 'a\r\r\nb\r\r\n字\r\r\n\r\r\n');
    const characters = CharacterSet.fromFile(path);
    expect(characters.characters).toEqual(['', 'a', 'b', '字', ' ']);
    writeFileSync(join(dir, 'lf.txt'), 'a\nb\n字');
    expect(characters.sha256).toBe(CharacterSet.fromFile(join(dir, 'lf.txt')).sha256);
  });

  it("drops an editor's byte-order mark, which is no character of the model's", () => {
    const path = join(dir, 'bom.txt');
    writeFileSync(path, '\uFEFF0\n1\n');
    expect(CharacterSet.fromFile(path).characters).toEqual(['', '0', '1', ' ']);
    // The same characters however the file ends its lines: one identity.
    writeFileSync(join(dir, 'plain.txt'), '0\r\n1');
    expect(CharacterSet.fromFile(path).sha256).toBe(CharacterSet.fromFile(join(dir, 'plain.txt')).sha256);
  });

  it("takes blank lines at the end for an editor's, not characters: the space stays the model's last class", () => {
    // Taken for a character, the blank line fits the model's class count as a model without a space would, and every space reads as ''.
    const path = join(dir, 'blank-end.txt');
    writeFileSync(path, 'a\nb\n\n');
    const characters = CharacterSet.fromFile(path);
    characters.assertFits(4, 'rec.onnx', path);
    expect(characters.characters).toEqual(['', 'a', 'b', ' ']);
    writeFileSync(path, 'a\r\nb\r\n\r\n\n');
    expect(CharacterSet.fromFile(path).classCount).toBe(4);
    writeFileSync(join(dir, 'plain-end.txt'), 'a\nb');
    expect(characters.sha256).toBe(CharacterSet.fromFile(join(dir, 'plain-end.txt')).sha256);
  });

  it('keeps blank lines at the end as classes where the model has one for each: PaddleOCR trained it on them', () => {
    const path = join(dir, 'trained-with-blank.txt');
    writeFileSync(path, 'a\nb\n\n');
    const characters = CharacterSet.fromFile(path);
    // a, b, the blank line, + blank + space.
    characters.assertFits(5, 'rec.onnx', path);
    expect(characters.characters).toEqual(['', 'a', 'b', '', ' ']);
    expect(() => CharacterSet.fromFile(path).assertFits(7, 'rec.onnx', path)).toThrow('has 2 characters and 1 blank line at its end (+ blank = 3');
  });

  it("reads the shipped PP-OCR dictionary as the recognition model's 6625 classes", () => {
    const shipped = CharacterSet.fromFile(join(__dirname, '../../../../models/ppocr_keys_v1.txt'));
    expect(shipped.classCount).toBe(6625);
    // The file's own sha256 (models/README.md).
    expect(shipped.sha256).toBe('28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7');
  });

  it('names the file and the variable when the dictionary cannot be read or is empty', () => {
    expect(() => CharacterSet.fromFile(join(dir, 'missing.txt'))).toThrow(/cannot read the recognition dictionary .*missing\.txt.*REC_DICT_PATH/);
    writeFileSync(join(dir, 'empty.txt'), '');
    expect(() => CharacterSet.fromFile(join(dir, 'empty.txt'))).toThrow(/empty\.txt \(REC_DICT_PATH\) is empty/);
  });

  it('refuses a dictionary that is not UTF-8, which would read every character it holds beyond ASCII as garbage', () => {
    // GBK keeps the line count (no byte of a character is a newline), so the counts alone would let it through.
    const gbk = join(dir, 'gbk.txt');
    writeFileSync(gbk, Buffer.from([0x61, 0x0a, 0xd6, 0xd0, 0x0a, 0xce, 0xc4, 0x0a])); // a, 中, 文
    expect(() => CharacterSet.fromFile(gbk)).toThrow(/gbk\.txt \(REC_DICT_PATH\) is not UTF-8 text/);
    const utf16 = join(dir, 'utf16.txt');
    writeFileSync(utf16, Buffer.from('\uFEFFa\n中\n', 'utf16le'));
    expect(() => CharacterSet.fromFile(utf16)).toThrow(/utf16\.txt \(REC_DICT_PATH\) is not UTF-8 text/);
  });

  it('refuses a UTF-16 dictionary of ASCII characters without a byte-order mark, which is valid UTF-8 with a NUL beside each character', () => {
    // Taken as UTF-8, "a\nb\n" in UTF-16LE is the lines "a\0", "\0b\0", "\0": one more than it has, so it fits a model of a, b + blank + space as one without a space.
    const utf16le = Buffer.from('a\nb\n', 'utf16le');
    for (const [name, bytes] of [['le', utf16le], ['be', Buffer.from(utf16le).swap16()]] as const) {
      const path = join(dir, `ascii-utf16${name}.txt`);
      writeFileSync(path, bytes);
      expect(() => CharacterSet.fromFile(path)).toThrow(`ascii-utf16${name}.txt (REC_DICT_PATH) is not UTF-8 text`);
    }
  });

  it('says which files do not fit each other, and by how much', () => {
    const characters = new CharacterSet(['a', 'b']);
    expect(() => characters.assertFits(4, 'rec.onnx', 'dict.txt')).not.toThrow();
    expect(() => characters.assertFits(3, 'rec.onnx', 'dict.txt')).not.toThrow();
    expect(() => characters.assertFits(6625, 'rec.onnx', 'dict.txt')).toThrow(
      'the recognition model rec.onnx (REC_MODEL_PATH) predicts 6625 classes, but the dictionary dict.txt (REC_DICT_PATH) has 2 characters (+ blank = 3, or + blank + space = 4)',
    );
  });
});
