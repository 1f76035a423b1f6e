import { inWritingOrder } from './writing-order';

describe('inWritingOrder', () => {
  it('turns round a line of Arabic as PaddleOCR does, its runs of Latin letters and digits in the order read', () => {
    // "مرحبا" read left to right on the screen comes out back to front.
    expect(inWritingOrder('ابحرم')).toBe('مرحبا');
    expect(inWritingOrder('12:30 ةعاسلا')).toBe('الساعة 12:30');
    expect(inWritingOrder('PDF فلم')).toBe('ملف PDF');
    expect(inWritingOrder('٣ مقر')).toBe('رقم ٣');
  });

  it('turns round Hebrew too, whatever the dictionary is called', () => {
    expect(inWritingOrder('םולש')).toBe('שלום');
  });

  it('leaves a line with no right-to-left letter as read', () => {
    expect(inWritingOrder('Café!')).toBe('Café!');
    expect(inWritingOrder('中文 ABC 123')).toBe('中文 ABC 123');
    expect(inWritingOrder('')).toBe('');
  });

  it('takes characters outside the basic plane whole', () => {
    expect(inWritingOrder('😀ابح')).toBe('حبا😀');
  });
});
