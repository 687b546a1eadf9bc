/** The wire protocol version an agent announces in its hellos. Bump only for a breaking change. */
export const PROTOCOL_VERSION = 1;

/** Versions this build of the mesh accepts from agents. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1];
