import { request as httpRequest, type IncomingMessage } from "node:http";

/** A streamed response being read: `text` is what has arrived so far, `firstData` resolves when its first chunk does, `done` at its end. */
export interface OpenedStream {
  readonly response: IncomingMessage;
  text(): string;
  readonly firstData: Promise<void>;
  readonly done: Promise<void>;
}

/** Opens a GET whose response is read as it comes (pause and resume `response` to read slowly), on a connection of its own. */
export function openStream(base: string, path: string, headers: Record<string, string> = {}): Promise<OpenedStream> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (response) => {
      let text = "";
      response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      const firstData = new Promise<void>((arrived) => response.once("data", () => arrived()));
      const done = new Promise<void>((end) => response.on("end", end).on("close", end));
      resolve({ response, text: () => text, firstData, done });
    });
    req.on("error", reject);
    req.end();
  });
}
