import { ConfigError } from './env';
import { formatIotEdgeLine, readLogConfig } from './logger';

describe('readLogConfig', () => {
  it('writes JSON by default and the IoT Edge format under IoT Edge', () => {
    expect(readLogConfig({})).toEqual({ format: 'json', level: 'info', summaryIntervalMs: 60_000 });
    expect(readLogConfig({ IOTEDGE_MODULEID: 'inference' }).format).toBe('iotedge');
    expect(readLogConfig({ IOTEDGE_MODULEID: 'inference', LOG_FORMAT: 'json', LOG_SUMMARY_INTERVAL: '10' })).toMatchObject({ format: 'json', summaryIntervalMs: 10_000 });
  });

  it('names a bad variable', () => {
    expect(() => readLogConfig({ LOG_FORMAT: 'syslog', LOG_LEVEL: 'loud' })).toThrow(ConfigError);
    expect(() => readLogConfig({ LOG_FORMAT: 'syslog' })).toThrow('LOG_FORMAT must be one of json, iotedge (got "syslog")');
  });
});

describe('formatIotEdgeLine', () => {
  const line = (fields: Record<string, unknown>) => JSON.stringify({ time: '2026-12-03T06:00:00.123Z', module: 'inference', ...fields });

  it("writes IoT Edge's own form: syslog severity, timestamp with offset, level, message", () => {
    expect(formatIotEdgeLine(line({ level: 30, msg: 'inference listening' }))).toBe('<6> 2026-12-03 06:00:00.123 +00:00 [INF] - inference listening\n');
    expect(formatIotEdgeLine(line({ level: 20, msg: 'd' }))).toMatch(/^<7> .* \[DBG\] - d\n$/);
    expect(formatIotEdgeLine(line({ level: 40, msg: 'w' }))).toMatch(/^<4> .* \[WRN\] - w\n$/);
    expect(formatIotEdgeLine(line({ level: 50, msg: 'e' }))).toMatch(/^<3> .* \[ERR\] - e\n$/);
    expect(formatIotEdgeLine(line({ level: 60, msg: 'f' }))).toMatch(/^<0> .* \[FTL\] - f\n$/);
  });

  it("appends an error's message unless the line already says it", () => {
    expect(formatIotEdgeLine(line({ level: 50, msg: 'failed to publish detections', err: { message: 'socket closed' } }))).toMatch(/- failed to publish detections: socket closed\n$/);
    expect(formatIotEdgeLine(line({ level: 60, msg: 'stopped: socket closed', err: { message: 'socket closed' } }))).toMatch(/- stopped: socket closed\n$/);
  });

  it('says which camera a line is about, as the JSON form does in its sourceId field, unless the message names it', () => {
    expect(formatIotEdgeLine(line({ level: 50, msg: 'source failed: no frame for 10.0 s; retrying', sourceId: 'dock' }))).toMatch(/\[ERR\] - dock: source failed: no frame for 10\.0 s; retrying\n$/);
    expect(formatIotEdgeLine(line({ level: 30, msg: 'source streaming', sourceId: 'gate' }))).toMatch(/\[INF\] - gate: source streaming\n$/);
    expect(formatIotEdgeLine(line({ level: 40, msg: 'camera0: no frame for 5 s', sourceId: 'camera0' }))).toMatch(/\[WRN\] - camera0: no frame for 5 s\n$/);
  });

  it("adds the line's other fields in brackets, as the JSON form has them, a long one cut", () => {
    expect(formatIotEdgeLine(line({ level: 40, msg: 'stopping with upstream messages unsent', unsent: 12, pid: 7, hostname: 'edge' }))).toMatch(
      /\[WRN\] - stopping with upstream messages unsent \(unsent=12\)\n$/,
    );
    expect(formatIotEdgeLine(line({ level: 30, msg: 'model loaded', backend: 'onnxruntime-cpu', streams: 2, modelPath: 'models/m.onnx' }))).toMatch(
      /- model loaded \(backend=onnxruntime-cpu, streams=2, modelPath=models\/m\.onnx\)\n$/,
    );
    const trace = 'Error: x\n    at f (a.js:1:1)\n'.repeat(40);
    const traced = formatIotEdgeLine(line({ level: 50, msg: 'handler failed', trace, context: 'Nest' }));
    expect(traced.split('\n')).toHaveLength(2); // one line, and the end
    expect(traced.length).toBeLessThan(400);
  });

  it('keeps a message of several lines on one line', () => {
    const msg = 'inference start-up failed: Invalid configuration:\n  - INFERENCE_THREADS must be an integer\n  - LOG_FORMAT must be one of json, iotedge';
    expect(formatIotEdgeLine(line({ level: 60, msg }))).toBe(
      '<0> 2026-12-03 06:00:00.123 +00:00 [FTL] - inference start-up failed: Invalid configuration: - INFERENCE_THREADS must be an integer - LOG_FORMAT must be one of json, iotedge\n',
    );
  });
});
