/**
 * A server-sent events parser (the WHATWG "event stream interpretation", minus reconnection).
 * Hand-written because nothing installed fits: no SSE parser is a dependency, Node's global
 * EventSource is behind --experimental-eventsource, and an EventSource (Node's or undici's) cannot
 * send the Authorization header an API key needs. It is ~30 lines over a fetch body.
 */
export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

/** Messages from text chunks (split anywhere, even inside a line or a CRLF). */
export async function* sseMessages(chunks: AsyncIterable<string>): AsyncGenerator<SseMessage> {
  const reader = lineReader();
  let buffer = '';
  for await (const chunk of chunks) {
    buffer += chunk;
    // A trailing CR may be half of a CRLF: keep it until the next chunk (or the end) says.
    const lines = buffer.split(/\r\n|\n|\r(?!$)/);
    buffer = lines.pop()!;
    for (const line of lines) {
      const message = reader(line);
      if (message) yield message;
    }
  }
  if (buffer.endsWith('\r')) {
    const message = reader(buffer.slice(0, -1));
    if (message) yield message;
  }
}

/** Takes one line at a time; returns the message a blank line completes. */
function lineReader(): (line: string) => SseMessage | null {
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  return (line) => {
    if (line === '') {
      const message =
        data.length > 0
          ? { event: event || 'message', data: data.join('\n'), ...(id ? { id } : {}) }
          : null;
      event = '';
      data = [];
      return message;
    }
    if (line.startsWith(':')) return null; // a comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
    return null;
  };
}
