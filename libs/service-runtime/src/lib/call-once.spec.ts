import { callOnce } from './call-once';

describe('callOnce', () => {
  it('calls the function the first time only', () => {
    let calls = 0;
    const release = callOnce(() => calls++);
    release();
    release();
    expect(calls).toBe(1);
  });
});
