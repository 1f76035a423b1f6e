import { formatCommandLine } from './command-line';

describe('formatCommandLine', () => {
  it('prints a command a POSIX shell runs unchanged, quoting only the arguments that need it', () => {
    expect(formatCommandLine(['docker', 'buildx', 'build', '-t', 'localhost:5000/capture:1.2.3-arm64.cuda', '.'])).toBe(
      'docker buildx build -t localhost:5000/capture:1.2.3-arm64.cuda .',
    );
    expect(formatCommandLine(['podman', 'build', '--build-arg', "BASE_IMAGE=my base's image"])).toBe(
      `podman build --build-arg 'BASE_IMAGE=my base'\\''s image'`,
    );
  });
});
