/** The line a stream client prints its result on (bench/stream-client.ts; read by stream-throughput.ts). */
export const STREAM_RESULT_PREFIX = "STREAM_RESULT ";
