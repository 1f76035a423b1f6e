import { troublesHealth } from './troubles-health';

describe('troublesHealth', () => {
  it('is healthy, and names nothing, while every trouble is undefined', () => {
    expect(troublesHealth({ silentForMs: undefined, upstream: undefined })).toEqual({ healthy: true });
  });

  it('is degraded while any trouble is present, naming those present only (a 0 included)', () => {
    expect(troublesHealth({ silentForMs: 0, upstream: undefined })).toEqual({ healthy: false, status: 'degraded', silentForMs: 0 });
  });
});
