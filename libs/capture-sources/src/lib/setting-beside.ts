/**
 * Where another of the source's variables is set: beside its path in a CAPTURE_SOURCES entry ("CAPTURE_SOURCES[1]
 * CAMERA_PATH" gives "CAPTURE_SOURCES[1] CAPTURE_RTSP_TRANSPORT"), else the module's own variable.
 */
export function settingBeside(setting: string, variable: string): string {
  const entry = /^(.+\]) CAMERA_PATH$/.exec(setting);
  return entry ? `${entry[1]} ${variable}` : variable;
}
