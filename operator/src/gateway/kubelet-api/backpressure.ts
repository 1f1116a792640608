// Writing to a socket-like stream without outrunning it.

export interface DrainableWritable {
  write(chunk: Buffer): boolean;
  on(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/** Writes `data`; resolves at once if the stream took it, else once it drains or closes. */
export function writeWithBackpressure(stream: DrainableWritable, data: Buffer): Promise<void> {
  if (stream.write(data)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
