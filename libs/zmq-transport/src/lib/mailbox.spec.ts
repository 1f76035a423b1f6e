import { DropOldestMailbox } from './mailbox';

async function drain<T>(mailbox: DropOldestMailbox<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of mailbox) items.push(item);
  return items;
}

describe('DropOldestMailbox', () => {
  it('keeps the newest `capacity` items and reports each drop', () => {
    const mailbox = new DropOldestMailbox<number>(2);

    expect([1, 2, 3, 4].map((item) => mailbox.put(item))).toEqual([0, 0, 1, 1]);
  });

  it('hands items out oldest first and waits for new ones', async () => {
    const mailbox = new DropOldestMailbox<string>(3);
    mailbox.put('a');
    mailbox.put('b');
    const iterator = mailbox[Symbol.asyncIterator]();

    expect((await iterator.next()).value).toBe('a');
    expect((await iterator.next()).value).toBe('b');
    const waiting = iterator.next();
    mailbox.put('c');
    expect((await waiting).value).toBe('c');
  });

  it('with capacity 1 always holds the newest item', async () => {
    const mailbox = new DropOldestMailbox<number>(1);
    const iterator = mailbox[Symbol.asyncIterator]();
    mailbox.put(1);
    mailbox.put(2);
    mailbox.put(3);

    expect((await iterator.next()).value).toBe(3);
  });

  it('carries undefined like any other message', async () => {
    const mailbox = new DropOldestMailbox<undefined>(2);
    mailbox.put(undefined);
    const iterator = mailbox[Symbol.asyncIterator]();

    expect(await iterator.next()).toEqual({ value: undefined, done: false });
  });

  it('close() discards waiting items, reports how many, and ends the iteration', async () => {
    const mailbox = new DropOldestMailbox<number>(5);
    mailbox.put(1);
    mailbox.put(2);

    expect(mailbox.close()).toBe(2);
    expect(await drain(mailbox)).toEqual([]);
    expect(mailbox.put(3)).toBe(1);
  });

  it('close() releases a consumer that is waiting for the next item', async () => {
    const mailbox = new DropOldestMailbox<number>(5);
    const drained = drain(mailbox);
    mailbox.put(1);
    await new Promise((resolve) => setImmediate(resolve));

    mailbox.close();

    expect(await drained).toEqual([1]);
  });
});
