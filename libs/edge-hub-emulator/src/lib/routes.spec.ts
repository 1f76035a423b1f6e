import { parseRoute, parseRoutes, sinksFor, type RoutedMessage } from './routes';

const message = (moduleId: string, outputName?: string, properties: Record<string, string> = {}, body?: unknown): RoutedMessage => ({
  moduleId,
  outputName,
  condition: { properties, system: { $connectionModuleId: moduleId, $outputName: outputName, $contentType: 'application/json' }, body: () => body },
});

describe('parseRoute', () => {
  it.each([
    ['FROM /messages/* INTO $upstream', {}],
    ['FROM /* INTO $upstream', {}],
    ['FROM /messages/modules/* INTO $upstream', {}],
    ['FROM /messages/modules/telemetry/* INTO $upstream', { fromModule: 'telemetry' }],
    ['FROM /messages/modules/telemetry/outputs/* INTO $upstream', { fromModule: 'telemetry', fromOutput: '*' }],
    ['from /messages/modules/capture/outputs/frames into $upstream', { fromModule: 'capture', fromOutput: 'frames' }],
  ])('reads %s', (text, expected) => {
    expect(parseRoute('r', text)).toMatchObject({ ...expected, sink: { kind: 'upstream' } });
  });

  it('reads BrokeredEndpoint sinks, either quote', () => {
    expect(parseRoute('r', 'FROM /messages/modules/a/outputs/o INTO BrokeredEndpoint("/modules/b/inputs/in1")').sink).toEqual({ kind: 'module', moduleId: 'b', inputName: 'in1' });
    expect(parseRoute('r', "FROM /messages/* INTO brokeredEndpoint('/modules/b/inputs/x')").sink).toEqual({ kind: 'module', moduleId: 'b', inputName: 'x' });
  });

  it.each([
    ['SELECT * INTO $upstream', /route "bad" \(SELECT \* INTO \$upstream\): expected FROM/],
    ['FROM /messages/modules/a/outputs INTO $upstream', /unknown source \/messages\/modules\/a\/outputs/],
    ['FROM /messages/* INTO $downstream', /unknown sink \$downstream/],
    ['FROM /messages/* INTO BrokeredEndpoint("/modules/b/outputs/x")', /unknown sink BrokeredEndpoint/],
    ["FROM /messages/* WHERE level = 'hot' AND INTO $upstream", /WHERE level = 'hot' AND: the condition ends too early/],
    ['FROM /messages/* WHERE GEO_DISTANCE(a, b) < 3 INTO $upstream', /function GEO_DISTANCE is not supported/],
    ['FROM /messages/* WHERE $twin.tags.x = 1 INTO $upstream', /system property \$twin.tags.x is not supported/],
  ])('rejects %s with a message naming the route', (text, message) => {
    expect(() => parseRoute('bad', text)).toThrow(message);
  });

  it('checks the modules a deployment routes from and to exist, reporting every bad route', () => {
    expect(() =>
      parseRoutes({ one: 'FROM /messages/modules/nope/* INTO $upstream', two: 'FROM /messages/* INTO BrokeredEndpoint("/modules/gone/inputs/i")' }, ['a']),
    ).toThrow(/route "one".*no module "nope".*\n.*route "two".*no module "gone"/);
  });
});

describe('sinksFor', () => {
  const routes = parseRoutes(
    {
      all: 'FROM /messages/modules/telemetry/outputs/* INTO $upstream',
      alsoUp: 'FROM /messages/* WHERE $outputName = \'alerts\' INTO $upstream',
      forward: 'FROM /messages/modules/capture/outputs/frames INTO BrokeredEndpoint("/modules/inference/inputs/frames")',
      hot: "FROM /messages/modules/capture/* WHERE temperature > 30 AND NOT (LOWER(site) = 'lab') INTO BrokeredEndpoint(\"/modules/telemetry/inputs/hot\")",
      body: "FROM /messages/modules/inference/* WHERE $body.score >= 0.5 OR IS_DEFINED($body.urgent) INTO $upstream",
      twin: 'FROM /twinChangeNotifications INTO $upstream',
    },
    ['telemetry', 'capture', 'inference'],
  );

  it('matches module, output and wildcard sources; one delivery per sink', () => {
    expect(sinksFor(routes, message('telemetry', 'alerts'))).toEqual([{ kind: 'upstream' }]);
    expect(sinksFor(routes, message('telemetry'))).toEqual([]); // outputs/* needs an output
    expect(sinksFor(routes, message('capture', 'frames'))).toEqual([{ kind: 'module', moduleId: 'inference', inputName: 'frames' }]);
    expect(sinksFor(routes, message('capture', 'other'))).toEqual([]);
  });

  it('evaluates WHERE conditions on properties (numeric strings as numbers) and JSON bodies', () => {
    expect(sinksFor(routes, message('capture', 'x', { temperature: '31', site: 'Field' }))).toHaveLength(1);
    expect(sinksFor(routes, message('capture', 'x', { temperature: '31', site: 'LAB' }))).toHaveLength(0);
    expect(sinksFor(routes, message('capture', 'x', { temperature: '29' }))).toHaveLength(0);
    expect(sinksFor(routes, message('capture', 'x', {}))).toHaveLength(0); // undefined compares false
    expect(sinksFor(routes, message('inference', 'o', {}, { score: 0.7 }))).toHaveLength(1);
    expect(sinksFor(routes, message('inference', 'o', {}, { score: 0.2 }))).toHaveLength(0);
    expect(sinksFor(routes, message('inference', 'o', {}, { score: 0.2, urgent: false }))).toHaveLength(1);
    expect(sinksFor(routes, message('inference', 'o', {}, undefined))).toHaveLength(0);
  });
});
