import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { readStateFile, type StateFileKind } from './state-file';

describe('readStateFile', () => {
  let dir: string;
  let file: string;
  let warnings: string[];
  let logger: pino.Logger;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'state-file-'));
    file = join(dir, 'state.json');
    warnings = [];
    logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const kind = (problemOf: StateFileKind['problemOf']): StateFileKind => ({ what: 'test state', problemOf, consequence: 'it is made anew' });

  it('gives nothing, and says nothing, where there is no file yet', () => {
    expect(readStateFile(file, kind(() => undefined), logger)).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('moves a file it cannot read aside, naming the file, what is wrong and what follows', () => {
    writeFileSync(file, '{"cut": ');

    expect(readStateFile(file, kind(() => undefined), logger)).toBeUndefined();

    const aside = readdirSync(dir).filter((name) => name.startsWith('state.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^${file} cannot be read as test state \\(.*JSON.*\\): moved aside to ${join(dir, aside[0])}; it is made anew$`))]);
  });

  it('leaves to another emulator on the same state dir a corrupt file it moved aside first, without failing', () => {
    writeFileSync(file, '[]');
    // The other emulator read the same file, and moves it aside between this one's read and its own move.
    const movedAsideMeanwhile = () => {
      rmSync(file);
      return 'not a JSON object but an array';
    };

    expect(readStateFile(file, kind(movedAsideMeanwhile), logger)).toBeUndefined();
    expect(existsSync(file)).toBe(false);
    expect(warnings).toEqual([]);
  });
});
