/** Why a message was rejected; stable strings so consumers can count or branch on them. */
export type ProtocolErrorCode =
  /** The message has a different number of ZeroMQ parts than its kind needs. */
  | 'BAD_PART_COUNT'
  /** The first bytes are not the protocol's magic: not one of our messages at all. */
  | 'BAD_MAGIC'
  | 'UNSUPPORTED_VERSION'
  /** A well-formed message of another kind (e.g. detections on the frames codec). */
  | 'WRONG_KIND'
  /** A part is shorter than its layout needs. */
  | 'TRUNCATED'
  /** A declared length disagrees with the bytes present or with the other fields. */
  | 'LENGTH_MISMATCH'
  /** The body is not UTF-8 JSON. */
  | 'INVALID_JSON'
  /** A field has the wrong type or is out of range. */
  | 'INVALID_FIELD';

/** The only error the codecs throw for bad input, so a receiver can drop the message and keep serving. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';

  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
  }
}
