import { inWritingOrder } from './writing-order';

describe('inWritingOrder', () => {
  it.each([
    ['ابحرم', 'مرحبا'],
    ['12:30 ةعاسلا', 'الساعة 12:30'],
    ['PDF file فلم', 'ملف PDF file'],
    ['٣ مقر', 'رقم ٣'],
    ['םולש', 'שלום'],
  ])('turns round %s, read left to right, as PaddleOCR does its Arabic lines: runs of letters and digits keep their order', (read, written) => {
    expect(inWritingOrder(read)).toBe(written);
  });

  it.each([
    ['١٢٥', '١٢٥'],
    ['۱۲۵ مقر', 'رقم ۱۲۵'],
    ['Café فلم', 'ملف Café'],
    ['e\u0301 ابح', 'حبا e\u0301'],
    ['34 12 مقر', 'رقم 12 34'],
    ['(PDF) فلم', 'ملف (PDF)'],
  ])('keeps %s in order as a reader does where PaddleOCR would not: any digits and letters, numbers apart, brackets mirrored', (read, written) => {
    expect(inWritingOrder(read)).toBe(written);
  });

  it('leaves a line with no right-to-left character as read', () => {
    expect(inWritingOrder('Café!')).toBe('Café!');
    expect(inWritingOrder('中文 ABC 123')).toBe('中文 ABC 123');
    expect(inWritingOrder('')).toBe('');
  });

  it('takes characters outside the basic plane whole', () => {
    expect(inWritingOrder('😀ابح')).toBe('حبا😀');
  });
});
