import { recordingLog } from './recording-log';

describe('recordingLog', () => {
  it('keeps each message with its level, in order', () => {
    const log = recordingLog();
    log.warn('cache not writable');
    log.info('engine loaded');
    expect(log.lines).toEqual(['warn: cache not writable', 'info: engine loaded']);
  });
});
