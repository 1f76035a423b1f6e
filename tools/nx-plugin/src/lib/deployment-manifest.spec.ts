import { applyMergePatch, CREATE_OPTIONS_CHUNK_LENGTH, generateManifest, type JsonObject, splitCreateOptions } from './deployment-manifest';

function joinedCreateOptions(settings: Record<string, string>): string {
  return Object.keys(settings)
    .filter((key) => key.startsWith('createOptions'))
    .sort()
    .map((key) => settings[key])
    .join('');
}

describe('applyMergePatch (RFC 7396)', () => {
  it('merges objects key by key, removes keys patched with null and replaces arrays whole', () => {
    const target = { a: 'b', c: { d: 'e', f: 'g' }, list: [1, 2] };
    const patch = { a: 'z', c: { f: null, h: 'i' }, list: [3] };
    expect(applyMergePatch(target, patch)).toEqual({ a: 'z', c: { d: 'e', h: 'i' }, list: [3] });
    expect(target).toEqual({ a: 'b', c: { d: 'e', f: 'g' }, list: [1, 2] });
  });
});

describe('splitCreateOptions', () => {
  it('keeps short createOptions in one minified string', () => {
    expect(splitCreateOptions('capture', { HostConfig: { Privileged: true } })).toEqual({ createOptions: '{"HostConfig":{"Privileged":true}}' });
  });

  it('splits long createOptions into createOptions, createOptions01, ... of 512 characters that join back', () => {
    const createOptions = { Env: Array.from({ length: 60 }, (_, i) => `VARIABLE_${i}=${'x'.repeat(10)}`) };
    const chunks = splitCreateOptions('inference', createOptions);

    expect(Object.keys(chunks)).toEqual(['createOptions', 'createOptions01', 'createOptions02']);
    expect(Object.values(chunks).slice(0, -1).every((chunk) => chunk.length === CREATE_OPTIONS_CHUNK_LENGTH)).toBe(true);
    expect(JSON.parse(joinedCreateOptions(chunks))).toEqual(createOptions);
  });

  it('takes up to 8 chunks (4096 characters) and refuses longer createOptions', () => {
    // {"Labels":{"note":"…"}} is 22 characters around the note.
    const withNoteOf = (length: number) => ({ Labels: { note: 'x'.repeat(length) } });
    expect(Object.keys(splitCreateOptions('inference', withNoteOf(4096 - 22))).pop()).toBe('createOptions07');
    expect(() => splitCreateOptions('inference', withNoteOf(4097 - 22))).toThrow(
      'createOptions of module "inference" are 4097 characters long; IoT Edge takes at most 4096.',
    );
  });

  it('accepts createOptions written as a JSON string and rejects one that is not a JSON object', () => {
    expect(splitCreateOptions('edgeHub', '{ "HostConfig": {} }')).toEqual({ createOptions: '{"HostConfig":{}}' });
    expect(() => splitCreateOptions('edgeHub', '{"HostConfig":')).toThrow('createOptions of module "edgeHub" are not valid JSON');
    expect(() => splitCreateOptions('edgeHub', '[]')).toThrow('createOptions of module "edgeHub" must be a JSON object.');
  });
});

describe('generateManifest', () => {
  const template = (image: string): JsonObject => ({
    '$schema-template': '4.0.0',
    modulesContent: {
      $edgeAgent: {
        'properties.desired': {
          systemModules: { edgeAgent: { type: 'docker', settings: { image: 'mcr.microsoft.com/azureiotedge-agent:1.6', createOptions: {} } } },
          modules: { capture: { type: 'docker', settings: { image, createOptions: { ExposedPorts: { '5555/tcp': {} } } } } },
        },
      },
    },
  });
  const imageOf = (module: string) => `localhost:5000/${module}:1.0.0-amd64`;

  it('fills ${MODULES.<module>} images, stringifies every createOptions and drops $schema-template', () => {
    expect(generateManifest(template('${MODULES.capture}'), imageOf)).toEqual({
      modulesContent: {
        $edgeAgent: {
          'properties.desired': {
            systemModules: { edgeAgent: { type: 'docker', settings: { image: 'mcr.microsoft.com/azureiotedge-agent:1.6', createOptions: '{}' } } },
            modules: { capture: { type: 'docker', settings: { image: 'localhost:5000/capture:1.0.0-amd64', createOptions: '{"ExposedPorts":{"5555/tcp":{}}}' } } },
          },
        },
      },
    });
  });

  it('refuses image placeholders it cannot fill instead of deploying them literally', () => {
    expect(() => generateManifest(template('${MODULES.capture.debug}'), imageOf)).toThrow(
      'Module "capture" has image "${MODULES.capture.debug}": the only placeholder genconfig fills is ${MODULES.<project>}.',
    );
  });
});
