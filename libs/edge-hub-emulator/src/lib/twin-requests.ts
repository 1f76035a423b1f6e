import { reportedPatchProblem } from './reported-properties';
import { twinResponseTopic } from './topics';
import { assertJsonObject, type JsonObject, type ModuleTwin } from './twin';

/** What the hub publishes back to the module that made a twin request. */
export interface TwinReply {
  topic: string;
  payload: string;
}

/** The answer to a twin GET: the whole document, both sections with their versions. */
export function twinGetReply(twin: ModuleTwin, requestId: string): TwinReply {
  return { topic: twinResponseTopic(200, requestId), payload: JSON.stringify(twin.document()) };
}

/**
 * Applies a module's reported-properties patch: a 204 with the new version, and the patch for whoever listens;
 * a 400, with the twin untouched, when the payload is not a JSON object or breaks one of edgeHub's rules for
 * reported properties (names, value sizes, depth, nulls in arrays, patch size).
 */
export function applyReportedPatch(twin: ModuleTwin, requestId: string, payload: Buffer): { reply: TwinReply; applied?: { patch: JsonObject; version: number } } {
  let patch: JsonObject;
  try {
    patch = assertJsonObject(JSON.parse(payload.toString('utf8')), 'a reported properties patch');
    const problem = reportedPatchProblem(patch);
    if (problem) throw new Error(problem);
  } catch (err) {
    const body = { errorCode: 400004, message: `invalid reported properties patch: ${(err as Error).message}` };
    return { reply: { topic: twinResponseTopic(400, requestId), payload: JSON.stringify(body) } };
  }
  const version = twin.patchReported(patch);
  return { reply: { topic: twinResponseTopic(204, requestId, version), payload: '' }, applied: { patch, version } };
}
