import { parseCommand, parseCommandLine } from './commands';

describe('simulator commands', () => {
  it('parses command-line words', () => {
    expect(parseCommand(['twin', 'capture'])).toEqual({ kind: 'twin', moduleId: 'capture' });
    expect(parseCommand(['twin', 'capture', '{"fps":', '5}'])).toEqual({ kind: 'twin', moduleId: 'capture', patch: { fps: 5 } });
    expect(parseCommand(['invoke', 'capture', 'restart'], 5000)).toEqual({ kind: 'invoke', moduleId: 'capture', method: 'restart', payload: undefined, timeoutMs: 5000 });
    expect(parseCommand(['modules'])).toEqual({ kind: 'modules' });
  });

  it('takes the JSON of a typed line as typed, quoted or not', () => {
    expect(parseCommandLine(`twin capture '{"note": "two  spaces"}'`)).toEqual({ kind: 'twin', moduleId: 'capture', patch: { note: 'two  spaces' } });
    expect(parseCommandLine('invoke  telemetry  setRate {"rate": 2}')).toMatchObject({ kind: 'invoke', moduleId: 'telemetry', method: 'setRate', payload: { rate: 2 } });
  });

  it('says what is wrong', () => {
    expect(() => parseCommand(['twin'])).toThrow('twin needs a module');
    expect(() => parseCommand(['twin', 'capture', '[1]'])).toThrow('a desired properties patch must be a JSON object, got [1]');
    expect(() => parseCommand(['invoke', 'capture', 'm', '{oops'])).toThrow(/the method payload is not JSON/);
    expect(() => parseCommand(['restart'])).toThrow(/unknown command restart; commands:/);
  });
});
