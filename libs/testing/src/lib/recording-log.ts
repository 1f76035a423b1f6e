/** A `{ info, warn }` log that keeps each message as `level: message`, for asserting on what code under test logs. */
export function recordingLog(): { lines: string[]; info: (message: string) => void; warn: (message: string) => void } {
  const lines: string[] = [];
  return { lines, info: (message) => lines.push(`info: ${message}`), warn: (message) => lines.push(`warn: ${message}`) };
}
