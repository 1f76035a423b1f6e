import { SharedAccessSignature } from 'azure-iot-common';
import { moduleResource, newModuleKey, sasTokenProblem } from './sas';

describe('sasTokenProblem', () => {
  const key = newModuleKey();
  const resource = moduleResource('hub.example.net', 'dev', 'mod');
  const inAnHour = Math.floor(Date.now() / 1000) + 3600;
  // Tokens made the way the SDK makes them: sr URL-encoded, signed as it appears in the token.
  const token = (sr = resource, k = key, expiry = inAnHour) => SharedAccessSignature.create(encodeURIComponent(sr), '', k, expiry).toString();

  it('accepts a token signed with the module key for its resource', () => {
    expect(sasTokenProblem(token(), resource, key)).toBeUndefined();
  });

  it.each([
    ['a token of another key', () => token(resource, newModuleKey()), /signature does not match/],
    ['an expired token', () => token(resource, key, Math.floor(Date.now() / 1000) - 1), /expired at/],
    ['a token for another module', () => token(moduleResource('hub.example.net', 'dev', 'other')), /is for hub.example.net\/devices\/dev\/modules\/other/],
    ['no token at all', () => 'hunter2', /not a SharedAccessSignature/],
  ])('says why it rejects %s', (_what, make, why) => {
    expect(sasTokenProblem(make(), resource, key)).toMatch(why);
  });
});
