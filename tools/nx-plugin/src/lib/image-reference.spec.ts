import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageNaming, imageReference, targetPlatform } from './image-reference';

describe('image references', () => {
  const naming = { registry: 'myacr.azurecr.io', version: '1.2.3' };

  it.each([
    [{ arch: 'amd64', cuda: false }, 'myacr.azurecr.io/inference:1.2.3-amd64'],
    [{ arch: 'arm64', cuda: false }, 'myacr.azurecr.io/inference:1.2.3-arm64'],
    [{ arch: 'amd64', cuda: true }, 'myacr.azurecr.io/inference:1.2.3-amd64.cuda'],
    [{ arch: 'arm64', cuda: true }, 'myacr.azurecr.io/inference:1.2.3-arm64.cuda'],
    [{ arch: 'arm64', cuda: true, jetpack: 6 }, 'myacr.azurecr.io/inference:1.2.3-arm64.cuda'],
    [{ arch: 'arm64', cuda: true, jetpack: 5 }, 'myacr.azurecr.io/inference:1.2.3-arm64.cuda.jp5'],
  ] as const)('tags %o images <registry>/<module>:<version>-<platform>', (platform, expected) => {
    expect(imageReference('inference', platform, naming)).toBe(expected);
  });

  it('tags a variant after the platform', () => {
    expect(imageReference('inference', { arch: 'arm64', cuda: true, jetpack: 5 }, naming, 'decoders')).toBe('myacr.azurecr.io/inference:1.2.3-arm64.cuda.jp5.decoders');
    expect(imageReference('inference', { arch: 'amd64', cuda: false }, naming, 'decoders')).toBe('myacr.azurecr.io/inference:1.2.3-amd64.decoders');
  });

  it('takes --jetpack for a Jetson (arm64 --cuda) only', () => {
    expect(targetPlatform({ arch: 'arm64', cuda: true, jetpack: 5 })).toEqual({ arch: 'arm64', cuda: true, jetpack: 5 });
    expect(targetPlatform({ arch: 'amd64' })).toEqual({ arch: 'amd64', cuda: false });
    expect(() => targetPlatform({ arch: 'arm64', jetpack: 5 })).toThrow(
      "--jetpack chooses the Jetson images' JetPack: it goes with --arch arm64 --cuda (got --arch arm64).",
    );
    expect(() => targetPlatform({ arch: 'amd64', cuda: true, jetpack: 6 })).toThrow('(got --arch amd64 --cuda)');
  });

  it('refuses a version that cannot be part of an image tag', () => {
    expect(() => imageReference('capture', { arch: 'amd64', cuda: false }, { ...naming, version: '1.0 beta' })).toThrow(
      '"1.0 beta" cannot be part of an image tag',
    );
  });

  it("defaults to a local registry and the root package.json's version", () => {
    const root = mkdtempSync(join(tmpdir(), 'iev-naming-'));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ version: '4.5.6' }));
    expect(imageNaming(root, {})).toEqual({ registry: 'localhost:5000', version: '4.5.6' });
    expect(imageNaming(root, { registry: 'r.example', version: '7.0.0' })).toEqual({ registry: 'r.example', version: '7.0.0' });
  });
});
